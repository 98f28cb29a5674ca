"""The console's routes: sign in and out, the overview and projections pages with the stream
that keeps them live, the static files; and the rebuild (`rebuilds`) and dead-letter
(`dead_letters`) pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from shared.http.identity import Operator
from shared.metrics import Metrics
from shared.operations.console import pages, session
from shared.operations.console.dead_letters import dead_letters_router
from shared.operations.console.live import (
    Console,
    ConsoleOperator,
    MaxEvents,
    StreamOperator,
    event_stream,
    form_field,
    session_expiry,
)
from shared.operations.console.rebuilds import rebuilds_router
from shared.operations.dead_letter_log import DeadLetters
from shared.rebuilds import Rebuilds
from shared.service import Service

STATIC = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
STATIC_DIR = Path(__file__).parent / "static"


def console_routers(
    services: list[Service], metrics: Metrics, dead_letters: DeadLetters, rebuilds: Rebuilds
) -> list[APIRouter]:
    """The console's routers: its own pages, its rebuild pages and its dead-letter pages."""
    console = Console(services, metrics, dead_letters)
    return [
        _pages_router(console),
        rebuilds_router(console, rebuilds),
        dead_letters_router(console),
    ]


def _pages_router(console: Console) -> APIRouter:
    router = APIRouter(prefix="/console", tags=["console"])

    @router.get("/sign-in", response_class=HTMLResponse)
    async def sign_in_form() -> HTMLResponse:
        """The sign-in page: a form for an operator token."""
        return pages.sign_in()

    @router.post("/sign-in", response_class=HTMLResponse, response_model=None)
    async def sign_in(request: Request) -> Response:
        """Keep an operator token in the console's cookie, then show the overview."""
        if not session.same_origin(request):
            return pages.refused(request, "This sign-in did not come from the console's page.")
        token = await form_field(request, "token")
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
        return event_stream(
            console.snapshots(request, session_expiry(request), max_events, console.fragments)
        )

    @router.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        """The stylesheet and the script: public, like any page's assets."""
        if name not in STATIC:
            raise HTTPException(404, f"No file {name!r}")
        headers = {**pages.SECURITY_HEADERS, "Cache-Control": "no-cache"}
        return Response((STATIC_DIR / name).read_bytes(), media_type=STATIC[name], headers=headers)

    return router
