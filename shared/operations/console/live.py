"""What the console's pages show and the streams that keep them live: one snapshot a second
of a page's live parts (HTML by element id) while the page is open; and the form and session
helpers of its routes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs

import jwt
import orjson
from fastapi import Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from shared.http.identity import Operator
from shared.metrics import Metrics
from shared.operations.console import pages, session
from shared.operations.dead_letter_log import DeadLetters
from shared.operations.services import consumer_reports, service_reports
from shared.service import Service

PERIOD = 1.0  # seconds between two snapshots of a stream
MAX_FORM = 16_384  # bytes: a sign-in form holds one token, a discard form one reason
SHOWN = 100  # dead letters listed on the page (the API pages through all)

ConsoleOperator = Annotated[Operator, session.console_operator()]
ConsoleChanges = Annotated[Operator, session.console_operator(changes_state=True)]
StreamOperator = Annotated[Operator, session.console_operator(page=False)]
MaxEvents = Annotated[
    int | None,
    Query(ge=1, le=10_000, description="end the stream after this many snapshots (scripts)"),
]
Fragments = Callable[[], Awaitable[dict[str, str]]]


class Console:
    """What the pages show, read from this process's services on the server."""

    def __init__(
        self, services: list[Service], metrics: Metrics, dead_letters: DeadLetters
    ) -> None:
        self.services = services
        self.metrics = metrics
        self.dead_letters = dead_letters
        self.runners = [r for s in services for r in s.runners]

    async def projections(self) -> list[dict[str, Any]]:
        return [await runner.status() for runner in self.runners]

    async def fragments(self) -> dict[str, str]:
        """The live parts of the pages, by element id."""
        return {
            "services": pages.services_table(await service_reports(self.services, self.metrics)),
            "projections": pages.projections_table(await self.projections()),
            "consumers": pages.consumers_table(await consumer_reports(self.services)),
        }

    async def letters(self) -> dict[str, str]:
        """The dead-letter page's live part: the first SHOWN still to settle."""
        page = await self.dead_letters.page(self.dead_letters.contexts, None, SHOWN)
        return {"dead-letters": pages.dead_letters_table(page.items, page.resume is not None)}

    async def snapshots(
        self,
        request: Request,
        until: float,
        max_events: int | None,
        fragments: Fragments,
        event: bytes = b"overview",
    ) -> AsyncIterator[bytes]:
        """One `event` a second with what `fragments` gives, until the client leaves, the
        session's token expires (`until`, a Unix time) or `max_events` were sent."""
        sent = 0
        self.metrics.count("medoffice_console_streams_opened_total")
        try:
            while max_events is None or sent < max_events:
                if await request.is_disconnected() or time.time() >= until:
                    return
                try:
                    data: dict[str, str] = await fragments()
                except Exception as exc:  # noqa: BLE001 - a backend down: say so, try again
                    failed = type(exc).__name__
                    data = {"live-state": f"Backends unavailable ({failed}); retrying"}
                yield b"event: " + event + b"\ndata: " + orjson.dumps(data) + b"\n\n"
                sent += 1
                if max_events is None or sent < max_events:
                    await asyncio.sleep(PERIOD)
        finally:  # ended, or cancelled when the client left
            self.metrics.count("medoffice_console_streams_closed_total")


def session_expiry(request: Request) -> float:
    token = request.cookies.get(session.COOKIE, "")
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    return float(exp) if isinstance(exp, int | float) else time.time()


async def form_field(request: Request, name: str) -> str | None:
    """One field of a posted form, stripped; None when absent, repeated or the form too big."""
    body = await request.body()
    if len(body) > MAX_FORM:
        return None
    values = parse_qs(body.decode("utf-8", errors="replace")).get(name, [])
    return values[0].strip() if len(values) == 1 else None


def foreign_form(request: Request) -> HTMLResponse | None:
    """The refusal page for a form posted from another origin; None for the console's own."""
    if session.same_origin(request):
        return None
    return pages.refused(request, "This form did not come from the console's page.")


def event_stream(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={**pages.SECURITY_HEADERS, "X-Accel-Buffering": "no"},
    )
