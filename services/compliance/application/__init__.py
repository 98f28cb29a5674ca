"""Compliance use cases: appending to and verifying the audit ledger."""
