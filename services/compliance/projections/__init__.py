"""Compliance read models."""
