"""Pure scheduling domain: events, commands and deciders. No I/O here."""
