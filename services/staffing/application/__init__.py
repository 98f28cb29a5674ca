"""Staffing use cases: load what a command needs, decide, append."""
