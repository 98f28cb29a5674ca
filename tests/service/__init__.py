"""Service-layer tests: use cases, projections and consumers on in-memory stores, no HTTP."""
