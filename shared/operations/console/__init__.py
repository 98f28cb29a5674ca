"""The operations web console at /console: server-rendered pages for platform operators, kept
live over Server-Sent Events. See docs/operations.md."""

from shared.operations.console.routes import console_routers

__all__ = ["console_routers"]
