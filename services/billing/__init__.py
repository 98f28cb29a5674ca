"""Billing: payers and fee schedules, charges from completed visits, claims (X12 837P)."""
