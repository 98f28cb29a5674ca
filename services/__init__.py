"""The four bounded contexts of medoffice, each a service with the same rooms."""
