"""How long an idle HTTP connection stays open, on the server's side and on our clients'.

The server (uvicorn) closes a connection that has been idle for `SERVER_KEEP_ALIVE` seconds. A
client that takes the same connection from its pool at that moment sends its request into a
socket being closed, and the request fails mid-flight (`httpx.ReadError`, or
`RemoteProtocolError: Server disconnected without sending a response`). httpx keeps an idle
connection for 5 s and uvicorn closes one after 5 s: equal, so a client that pauses about five
seconds between two requests to one server (a test between two bursts, an operator command
paging through a list) loses one now and then. Our clients drop an idle connection well before
the server would (a client's idle time starts when it reads a response, after the server's
started as it wrote it), so the server never closes a connection a client may still reuse.
"""

from __future__ import annotations

import httpx

SERVER_KEEP_ALIVE = 5  # seconds; uvicorn takes whole ones
CLIENT_KEEP_ALIVE = SERVER_KEEP_ALIVE / 2


def client_limits() -> httpx.Limits:
    """httpx's default pool limits, with idle connections dropped before the server's."""
    return httpx.Limits(
        max_connections=100, max_keepalive_connections=20, keepalive_expiry=CLIENT_KEEP_ALIVE
    )
