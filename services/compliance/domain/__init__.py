"""Pure compliance domain: the audit ledger's hash chain. No I/O here."""
