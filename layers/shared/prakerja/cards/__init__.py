"""Card lifecycle after issue: the first-purchase deadline and revocation."""
