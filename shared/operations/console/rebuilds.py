"""The console's rebuild pages: start a projection's rebuild, follow the recent ones and one
rebuild's progress bar live (events done of those in all, the rate, the time left) to its
switch, and cancel it. Forms answer with a redirect (303), or the page again saying why not."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from shared.http.identity import Operator
from shared.operations.access import JobId
from shared.operations.console import pages
from shared.operations.console.live import (
    Console,
    ConsoleChanges,
    ConsoleOperator,
    MaxEvents,
    StreamOperator,
    event_stream,
    foreign_form,
    form_field,
    session_expiry,
)
from shared.rebuilds import AlreadyRebuilding, NotRunning, Rebuilds

RECENT = 20  # rebuilds the list shows


def rebuilds_router(console: Console, rebuilds: Rebuilds) -> APIRouter:
    router = APIRouter(prefix="/console", tags=["console"])
    names = [r.projection.name for r in console.runners]

    async def recent() -> dict[str, str]:
        return {"rebuilds": pages.rebuilds_table(await rebuilds.recent(RECENT))}

    async def list_page(who: Operator, message: str = "", status: int = 200) -> HTMLResponse:
        body = pages.template("rebuilds").substitute(
            notice=pages.notice(message),
            options=pages.projection_options(names),
            rebuilds=(await recent())["rebuilds"],
        )
        return pages.page("Rebuilds", body, who.sub, "rebuilds", status)

    async def job_page(
        who: Operator, rebuild_id: str, message: str = "", status: int = 200
    ) -> HTMLResponse:
        job = await rebuilds.get(rebuild_id)
        if job is None:
            body = pages.notice(f"No rebuild {rebuild_id}.")
            return pages.page("Rebuild", body, who.sub, "rebuilds", status=404)
        body = pages.template("rebuild").substitute(
            notice=pages.notice(message),
            rebuild_id=escape(rebuild_id),
            rebuild=pages.rebuild_progress(job),
        )
        return pages.page(f"Rebuild of {job['projection']}", body, who.sub, "rebuilds", status)

    @router.get("/rebuilds", response_class=HTMLResponse)
    async def rebuild_list(who: ConsoleOperator) -> HTMLResponse:
        """The form to start a rebuild, and the recent rebuilds with their progress (live)."""
        return await list_page(who)

    @router.get("/stream/rebuilds", response_class=StreamingResponse)
    async def rebuilds_stream(
        request: Request, who: StreamOperator, max_events: MaxEvents = None
    ) -> StreamingResponse:
        """Server-Sent Events: a `rebuilds` event a second, the recent rebuilds' HTML."""
        expiry = session_expiry(request)
        return event_stream(console.snapshots(request, expiry, max_events, recent, b"rebuilds"))

    @router.post("/rebuilds", response_class=HTMLResponse, response_model=None)
    async def start(request: Request, who: ConsoleChanges) -> Response:
        """Start rebuilding the form's projection, then follow it on its page."""
        if (refusal := foreign_form(request)) is not None:
            return refusal
        name = await form_field(request, "projection")
        if name not in names:
            return await list_page(who, f"No projection {name!r} here.", status=422)
        try:
            job = await rebuilds.start(name, who.sub)
        except AlreadyRebuilding as exc:
            return await list_page(who, str(exc), status=409)
        return RedirectResponse(f"/console/rebuilds/{job['id']}", status_code=303)

    @router.get("/rebuilds/{rebuild_id}", response_class=HTMLResponse)
    async def rebuild(rebuild_id: JobId, who: ConsoleOperator) -> HTMLResponse:
        """One rebuild's progress bar and figures (live), and the form to cancel it."""
        return await job_page(who, rebuild_id)

    @router.get("/stream/rebuilds/{rebuild_id}", response_class=StreamingResponse)
    async def rebuild_stream(
        rebuild_id: JobId, request: Request, who: StreamOperator, max_events: MaxEvents = None
    ) -> StreamingResponse:
        """Server-Sent Events: a `rebuild` event a second, the rebuild's progress as HTML."""

        async def progress() -> dict[str, str]:
            job = await rebuilds.get(rebuild_id)
            shown = pages.rebuild_progress(job) if job else pages.notice("No such rebuild.")
            return {"rebuild": shown}

        expiry = session_expiry(request)
        return event_stream(console.snapshots(request, expiry, max_events, progress, b"rebuild"))

    @router.post("/rebuilds/{rebuild_id}/cancel", response_class=HTMLResponse, response_model=None)
    async def cancel(rebuild_id: JobId, request: Request, who: ConsoleChanges) -> Response:
        """Cancel the rebuild (the live read model serves on), then show it."""
        if (refusal := foreign_form(request)) is not None:
            return refusal
        try:
            job = await rebuilds.cancel(rebuild_id, who.sub)
        except NotRunning as exc:
            return await job_page(who, rebuild_id, str(exc), status=409)
        if job is None:
            return await job_page(who, rebuild_id)
        return RedirectResponse(f"/console/rebuilds/{rebuild_id}", status_code=303)

    return router
