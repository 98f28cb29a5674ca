"""Scheduling: sites, rooms, providers, visit types and appointments."""
