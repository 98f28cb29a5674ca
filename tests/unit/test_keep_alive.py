"""A served process never closes a connection our clients may still reuse.

uvicorn closes a connection idle for its keep-alive timeout; a client that reuses it at that
moment loses its request mid-flight (httpx.ReadError: the four-process booking race failed so on
a loaded fresh-clone run, between two bursts of requests some five seconds apart, httpx's and
uvicorn's defaults both being 5 s). Our clients drop an idle connection first: a request after a
pause the server would still keep the connection for goes out on a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from services.cli import served
from shared.http.keep_alive import CLIENT_KEEP_ALIVE, SERVER_KEEP_ALIVE, client_limits
from shared.settings import Settings
from tests.integration.servers import Server
from tests.support import wait_until


async def peer(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the client's port: which connection the request came on."""
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(scope["client"][1]).encode()})


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """The test servers' client (tests/integration/servers.py), in front of uvicorn configured
    as `medoffice serve` configures it, on that client's port."""
    front = Server(Settings(seed_demo=False, env="test"), tmp_path)
    uv = uvicorn.Server(served(peer, "127.0.0.1", front.port))
    serving = asyncio.create_task(uv.serve())
    try:

        async def started() -> bool:
            return uv.started

        await wait_until(started, timeout=30, message="uvicorn to listen")
        yield front
    finally:
        uv.should_exit = True
        await serving
        await front.client.aclose()


def test_our_clients_keep_an_idle_connection_for_less_than_the_server() -> None:
    config = served(peer, "127.0.0.1", 0)
    assert config.timeout_keep_alive == SERVER_KEEP_ALIVE
    assert client_limits().keepalive_expiry == CLIENT_KEEP_ALIVE < SERVER_KEEP_ALIVE
    # The proxies' upstream pools let go first too: Caddy's 2 minutes, ingress-nginx's 60 s.
    assert SERVER_KEEP_ALIVE > 120


async def test_a_request_after_a_pause_goes_out_on_a_new_connection(server: Server) -> None:
    first = (await server.client.get("/")).text
    assert (await server.client.get("/")).text == first  # at once: the same connection

    # Past the client's idle expiry, within the server's: the server still holds the first
    # connection open, and would close it as the client reused it.
    await asyncio.sleep(CLIENT_KEEP_ALIVE + 1)

    assert (await server.client.get("/")).text != first
