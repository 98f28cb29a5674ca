"""Only a keyed POST goes through the idempotency machinery; every other request reaches the
app with the server's own receive and send (no task, no stream: issue 10's per-request floor)."""

from __future__ import annotations

import pytest
from starlette.types import Message, Receive, Scope, Send

from shared.http.idempotency import IdempotencyMiddleware


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Receive, Send]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls.append((receive, send))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _scope(method: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/x",
        "raw_path": b"/x",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1234),
    }


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("GET", []),
        ("GET", [(b"idempotency-key", b"k1")]),
        ("POST", []),
        ("PUT", [(b"idempotency-key", b"k1")]),
    ],
)
async def test_a_request_without_a_keyed_post_reaches_the_app_untouched(
    method: str, headers: list[tuple[bytes, bytes]]
) -> None:
    app = Recorder()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await IdempotencyMiddleware(app)(_scope(method, headers), receive, send)
    assert app.calls == [(receive, send)]
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
