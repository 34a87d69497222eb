"""The training marketplace: the course catalog, purchases with the card balance, vouchers
that platforms redeem, completions with certificates, and reviews."""
