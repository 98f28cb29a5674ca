"""Tenant ids the suite reserves for itself."""

PLATFORM = "platform"  # what platform operators did (shared/operations/events.py): auditors only
