"""How long an idle HTTP connection stays open, on the server's side and on our clients'.

The server (uvicorn) closes a connection that has been idle for `SERVER_KEEP_ALIVE` seconds. A
client that takes the same connection from its pool at that moment sends its request into a
socket being closed, and the request fails mid-flight (`httpx.ReadError`, or
`RemoteProtocolError: Server disconnected without sending a response`). By default httpx
keeps an idle connection for 5 s and uvicorn closes one after 5 s: equal, so a client that
pauses about five seconds between two requests to one server (a test between two bursts, an
operator command paging through a list) loses one now and then. Our clients drop an idle
connection well before the server would (a client's idle time starts when it reads a
response, after the server's started as it wrote it), so the server never closes a connection
a client may still reuse.

The proxies in front of the services pool their upstream connections the same way, and longer:
Caddy (deploy/compose) keeps an idle one for 2 minutes, ingress-nginx for 60 s. So the server
keeps one for longer than either: the proxy, like our clients, always lets go first.
"""

from __future__ import annotations

import httpx

SERVER_KEEP_ALIVE = 130  # seconds; uvicorn takes whole ones; past Caddy's 120 and nginx's 60
CLIENT_KEEP_ALIVE = 2.5  # httpx's default is 5: a fresh connection now and then costs little


def client_limits() -> httpx.Limits:
    """httpx's default pool limits, with idle connections dropped before the server's."""
    return httpx.Limits(
        max_connections=100, max_keepalive_connections=20, keepalive_expiry=CLIENT_KEEP_ALIVE
    )
