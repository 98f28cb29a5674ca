"""HTTP plumbing shared by every service: problems, identity, idempotency."""
