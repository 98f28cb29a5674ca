"""The console's routes: sign in and out, the overview and projections pages, and the stream
that keeps them live (Server-Sent Events, one snapshot a second while the page is open)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

import jwt
import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from shared.http.identity import Operator
from shared.metrics import Metrics
from shared.operations.console import pages, session
from shared.operations.services import consumer_reports, service_reports
from shared.service import Service

PERIOD = 1.0  # seconds between two snapshots of a stream
MAX_FORM = 16_384  # bytes: a sign-in form holds one token
STATIC = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
STATIC_DIR = Path(__file__).parent / "static"

ConsoleOperator = Annotated[Operator, session.console_operator()]
StreamOperator = Annotated[Operator, session.console_operator(page=False)]
MaxEvents = Annotated[
    int | None,
    Query(ge=1, le=10_000, description="end the stream after this many snapshots (scripts)"),
]


class Console:
    """What the pages show, read from this process's services on the server."""

    def __init__(self, services: list[Service], metrics: Metrics) -> None:
        self.services = services
        self.metrics = metrics
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

    async def snapshots(
        self, request: Request, until: float, max_events: int | None
    ) -> AsyncIterator[bytes]:
        """One `overview` event a second, until the client leaves, the session's token
        expires (`until`, a Unix time) or `max_events` were sent."""
        sent = 0
        self.metrics.count("medoffice_console_streams_opened_total")
        try:
            while max_events is None or sent < max_events:
                if await request.is_disconnected() or time.time() >= until:
                    return
                try:
                    data: dict[str, str] = await self.fragments()
                except Exception as exc:  # noqa: BLE001 - a backend down: say so, try again
                    failed = type(exc).__name__
                    data = {"live-state": f"Backends unavailable ({failed}); retrying"}
                yield b"event: overview\ndata: " + orjson.dumps(data) + b"\n\n"
                sent += 1
                if max_events is None or sent < max_events:
                    await asyncio.sleep(PERIOD)
        finally:  # ended, or cancelled when the client left
            self.metrics.count("medoffice_console_streams_closed_total")


def _expiry(request: Request) -> float:
    token = request.cookies.get(session.COOKIE, "")
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    return float(exp) if isinstance(exp, int | float) else time.time()


async def _form_token(request: Request) -> str | None:
    body = await request.body()
    if len(body) > MAX_FORM:
        return None
    values = parse_qs(body.decode("utf-8", errors="replace")).get("token", [])
    return values[0].strip() if len(values) == 1 else None


def console_router(services: list[Service], metrics: Metrics) -> APIRouter:
    router = APIRouter(prefix="/console", tags=["console"])
    console = Console(services, metrics)

    @router.get("/sign-in", response_class=HTMLResponse)
    async def sign_in_form() -> HTMLResponse:
        """The sign-in page: a form for an operator token."""
        return pages.sign_in()

    @router.post("/sign-in", response_class=HTMLResponse, response_model=None)
    async def sign_in(request: Request) -> Response:
        """Keep an operator token in the console's cookie, then show the overview."""
        if not session.same_origin(request):
            return pages.refused(request, "This sign-in did not come from the console's page.")
        token = await _form_token(request)
        if not token:
            return pages.sign_in("Paste one operator token.", status=422)
        try:
            caller = session.verify(request, token)
        except HTTPException:
            return pages.sign_in("That token is not valid, or has expired.", status=401)
        if not isinstance(caller, Operator):
            return pages.refused(request)
        signed_in = RedirectResponse("/console", status_code=303)
        session.keep(signed_in, request, token)
        return signed_in

    @router.post("/sign-out", response_class=HTMLResponse, response_model=None)
    async def sign_out(request: Request) -> Response:
        """Forget the console's cookie, then show the sign-in page."""
        if not session.same_origin(request):
            return pages.refused(request, "This sign-out did not come from the console's page.")
        signed_out = RedirectResponse(session.SIGN_IN, status_code=303)
        session.forget(signed_out, request)
        return signed_out

    @router.get("", response_class=HTMLResponse)
    async def overview(who: ConsoleOperator) -> HTMLResponse:
        """Services (readiness, outbox backlog, events appended), projections and consumers
        (lag, generation), kept live by /console/stream/overview."""
        body = pages.template("overview").substitute(await console.fragments())
        return pages.page("Overview", body, operator=who.sub, current="overview")

    @router.get("/projections", response_class=HTMLResponse)
    async def projections(who: ConsoleOperator) -> HTMLResponse:
        """Each projection's lag, generation and whether it runs, kept live."""
        table = pages.projections_table(await console.projections())
        body = pages.template("projections").substitute(projections=table)
        return pages.page("Projections", body, operator=who.sub, current="projections")

    @router.get("/stream/overview", response_class=StreamingResponse)
    async def overview_stream(
        request: Request, who: StreamOperator, max_events: MaxEvents = None
    ) -> StreamingResponse:
        """Server-Sent Events: an `overview` event a second, its data a JSON object of the
        pages' live parts (HTML, by element id), until the client leaves or its session
        expires."""
        return StreamingResponse(
            console.snapshots(request, _expiry(request), max_events),
            media_type="text/event-stream",
            headers={**pages.SECURITY_HEADERS, "X-Accel-Buffering": "no"},
        )

    @router.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        """The stylesheet and the script: public, like any page's assets."""
        if name not in STATIC:
            raise HTTPException(404, f"No file {name!r}")
        headers = {**pages.SECURITY_HEADERS, "Cache-Control": "no-cache"}
        return Response((STATIC_DIR / name).read_bytes(), media_type=STATIC[name], headers=headers)

    return router
