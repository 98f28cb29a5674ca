"""Staffing read models."""
