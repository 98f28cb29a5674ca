"""Engagement's read models, built from the bus (replay-safe)."""
