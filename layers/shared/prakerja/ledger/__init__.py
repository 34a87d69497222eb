"""The program's double-entry ledger: every rupiah from the state budget to a card, a
platform, an applicant's incentive, a payment partner or back to the State Treasury."""
