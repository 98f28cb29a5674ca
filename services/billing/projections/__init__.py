"""Billing read models, built from its events (replay-safe)."""
