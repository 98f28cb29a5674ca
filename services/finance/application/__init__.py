"""Finance use cases: each decides one command against the event store."""
