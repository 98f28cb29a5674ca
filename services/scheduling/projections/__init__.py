"""Scheduling read models."""
