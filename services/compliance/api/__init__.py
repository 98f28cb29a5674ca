"""Compliance over HTTP: the audit log and the audit ledger, for auditors."""
