"""Engagement's use cases: consent, an appointment's messages and what it learns from scheduling."""
