"""The console's dead-letter pages: the list (kept live), one letter with its data sealed, and
the forms that replay one, replay a context's, or discard one with a reason. A form answers
with a redirect to the list (303) or the letter's page again saying why it was refused."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from shared.http.identity import Operator
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
from shared.operations.dead_letter_log import (
    ID_PATTERN,
    AlreadySettled,
    NoDeadLetter,
    NotReplayable,
)

MAX_REASON = 500
DeadLetterId = Annotated[str, FastPath(pattern=ID_PATTERN, max_length=80)]


def dead_letters_router(console: Console) -> APIRouter:
    router = APIRouter(prefix="/console", tags=["console"])
    dead_letters = console.dead_letters

    async def letter_page(
        who: Operator, dead_letter_id: str, message: str = "", status: int = 200
    ) -> HTMLResponse:
        try:
            letter = await dead_letters.show(dead_letter_id)
        except NoDeadLetter:
            body = pages.notice(f"No dead letter {dead_letter_id}.")
            return pages.page("Dead letter", body, who.sub, "dead-letters", status=404)
        body = pages.dead_letter(letter, message)
        return pages.page(f"Dead letter {dead_letter_id}", body, who.sub, "dead-letters", status)

    @router.get("/dead-letters", response_class=HTMLResponse)
    async def dead_letter_list(
        who: ConsoleOperator,
        replayed: Annotated[int | None, Query(ge=0, le=100_000)] = None,
        settled: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=80)] = None,
    ) -> HTMLResponse:
        """Dead letters still to settle, kept live by /console/stream/dead-letters; a form per
        context to replay all of them."""
        message = ""
        if replayed is not None:
            message = f"Replayed {replayed} dead letter(s); their consumers apply them again."
        elif settled is not None:
            message = f"Dead letter {settled} settled."
        body = pages.template("dead_letters").substitute(
            notice=pages.notice(message),
            replay_all=pages.replay_all_forms(dead_letters.contexts),
            dead_letters=(await console.letters())["dead-letters"],
        )
        return pages.page("Dead letters", body, operator=who.sub, current="dead-letters")

    @router.get("/stream/dead-letters", response_class=StreamingResponse)
    async def dead_letters_stream(
        request: Request, who: StreamOperator, max_events: MaxEvents = None
    ) -> StreamingResponse:
        """Server-Sent Events: a `dead-letters` event a second, its data the list's HTML by
        element id, until the client leaves or its session expires."""
        return event_stream(
            console.snapshots(
                request, session_expiry(request), max_events, console.letters, b"dead-letters"
            )
        )

    @router.post("/dead-letters/replay", response_class=HTMLResponse, response_model=None)
    async def replay_context(request: Request, who: ConsoleChanges) -> Response:
        """Replay every dead letter of the form's context, then show the list."""
        if (refusal := foreign_form(request)) is not None:
            return refusal
        context = await form_field(request, "context")
        if context not in dead_letters.contexts:
            body = pages.notice(f"No context {context!r} here.")
            return pages.page("Dead letters", body, who.sub, "dead-letters", status=422)
        try:
            replayed = await dead_letters.replay_all(context, who.sub)
        except NotReplayable as exc:
            body = pages.notice(str(exc))
            return pages.page("Dead letters", body, who.sub, "dead-letters", status=409)
        return RedirectResponse(f"/console/dead-letters?replayed={len(replayed)}", status_code=303)

    @router.get("/dead-letters/{dead_letter_id}", response_class=HTMLResponse)
    async def dead_letter(dead_letter_id: DeadLetterId, who: ConsoleOperator) -> HTMLResponse:
        """One dead letter: what it is, why it failed, its data with PHI sealed, its history,
        and the forms to replay or discard it."""
        return await letter_page(who, dead_letter_id)

    @router.post(
        "/dead-letters/{dead_letter_id}/replay", response_class=HTMLResponse, response_model=None
    )
    async def replay(
        dead_letter_id: DeadLetterId, request: Request, who: ConsoleChanges
    ) -> Response:
        """Replay one dead letter through the normal path, then show the list."""
        if (refusal := foreign_form(request)) is not None:
            return refusal
        try:
            await dead_letters.replay(dead_letter_id, who.sub)
        except NoDeadLetter:
            return await letter_page(who, dead_letter_id)
        except NotReplayable as exc:
            return await letter_page(who, dead_letter_id, str(exc), status=409)
        return RedirectResponse(f"/console/dead-letters?settled={dead_letter_id}", status_code=303)

    @router.post(
        "/dead-letters/{dead_letter_id}/discard", response_class=HTMLResponse, response_model=None
    )
    async def discard(
        dead_letter_id: DeadLetterId, request: Request, who: ConsoleChanges
    ) -> Response:
        """Set a dead letter aside for good with the form's reason, then show the list."""
        if (refusal := foreign_form(request)) is not None:
            return refusal
        reason = await form_field(request, "reason")
        if not reason or len(reason) > MAX_REASON:
            message = f"Give a reason of 1 to {MAX_REASON} characters to discard it."
            return await letter_page(who, dead_letter_id, message, status=422)
        try:
            await dead_letters.discard(dead_letter_id, reason, who.sub)
        except NoDeadLetter:
            return await letter_page(who, dead_letter_id)
        except AlreadySettled as exc:
            return await letter_page(who, dead_letter_id, str(exc), status=409)
        return RedirectResponse(f"/console/dead-letters?settled={dead_letter_id}", status_code=303)

    return router
