"""A 500 under a real server: problem+json with the correlation id, one JSON log line without
the exception's message, and the kept-alive connection still serves the next request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from shared.clock import SystemClock
from shared.http.identity import mint_token
from shared.http.keep_alive import CLIENT_KEEP_ALIVE
from shared.settings import Settings
from tests.integration.failing_server import SECRET
from tests.integration.servers import ROOT, free_port
from tests.support import wait_until


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, stderr = free_port(), tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.failing_server", str(port), str(tmp_path)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        yield port, stderr
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def client(server: tuple[int, Path]) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(seed_demo=False, env="test")
    token = mint_token(
        settings.jwt_secret,
        issuer=settings.jwt_issuer,
        subject="tester",
        tenant="acme",
        roles=["admin"],
        sites=None,
        now=SystemClock().now(),
    )
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server[0]}",
        headers={"authorization": f"Bearer {token}"},
        limits=httpx.Limits(max_connections=1, keepalive_expiry=CLIENT_KEEP_ALIVE),
        timeout=30,
    ) as client:

        async def up() -> bool:
            try:
                return (await client.get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(up, timeout=60, message="the server to answer")
        yield client


def connection(response: httpx.Response) -> object:
    """The local address of the connection the response came on."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


async def test_a_500_is_a_problem_on_a_connection_that_stays_open(
    client: httpx.AsyncClient, server: tuple[int, Path]
) -> None:
    before = await client.get("/health")

    failed = await client.get("/failing/read", headers={"x-correlation-id": "corr-500"})

    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.headers["x-correlation-id"] == "corr-500"
    assert failed.json() == {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "the request failed; nothing was half-written",
    }
    assert failed.headers.get("connection") != "close"
    after = await client.get("/health")
    assert after.status_code == 200
    assert connection(before) == connection(failed) == connection(after)

    keyed = {"idempotency-key": "fails-1"}
    first = await client.post("/failing/write", headers=keyed)
    retry = await client.post("/failing/write", headers=keyed)
    assert first.status_code == retry.status_code == 500  # a 500 leaves the key free
    assert first.headers["x-correlation-id"] != retry.headers["x-correlation-id"]
    assert connection(first) == connection(retry) == connection(after)

    _, stderr = server
    lines = stderr.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(e, dict) for e in entries)
    errors = [e for e in entries if e["event"] == "unhandled_error"]
    assert [(e["error_type"], e["level"]) for e in errors] == [
        ("RuntimeError", "error"),
        ("ValueError", "error"),
        ("ValueError", "error"),
    ]
    assert errors[0]["correlation_id"] == "corr-500"
    assert errors[0]["traceback"][-1].endswith(" in read")
    assert "caused by KeyError" in errors[1]["traceback"]
    assert SECRET not in stderr.read_text()
