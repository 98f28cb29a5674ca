"""Billing use cases: one command decided against the event store per call."""
