"""Compliance: the audit trail of every event of every context."""
