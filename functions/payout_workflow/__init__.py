"""The payout workflow's steps: collect the due payouts, send each transfer, check on it."""
