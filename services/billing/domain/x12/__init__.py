"""X12 005010: the claims (837P) billing writes and the acknowledgements it reads. Pure."""
