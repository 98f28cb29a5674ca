"""Billing domain: pure deciders and the X12 they write and read."""
