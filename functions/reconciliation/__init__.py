"""The reconciliation workflow's step: a partner's settlement report against the ledger."""
