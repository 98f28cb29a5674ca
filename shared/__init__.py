"""The suite's common core: events, ports and their adapters, HTTP plumbing."""
