"""Incentive payouts: payout accounts validated with the payment partners, entitlements from
the benefit scheme, transfers through the partners exactly once, and their reconciliation."""
