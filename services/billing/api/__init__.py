"""Billing HTTP routes: parse, authorise, call one use case, map the answer."""
