"""/ops for dead letters: list them per context, inspect one (PHI sealed), replay one or all
of a context through the normal path, discard one with a reason. See `dead_letter_log`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field

from shared.bus.port import BadPosition
from shared.http.routes import Body, decode_cursor, encode_cursor
from shared.operations.access import OperatorChanges, Operators
from shared.operations.dead_letter_log import (
    ID_PATTERN,
    AlreadySettled,
    DeadLetters,
    NoDeadLetter,
    NotReplayable,
    Resume,
    UnknownContext,
)

DeadLetterId = Annotated[str, Path(pattern=ID_PATTERN, max_length=80)]
FROM_START = "start"  # a cursor's position before the first record of a context


class Discard(Body):
    reason: str = Field(min_length=1, max_length=500, description="why it is set aside")


class ReplayContext(Body):
    context: str = Field(min_length=1, max_length=40, description="replay all of its dead letters")


def _resume(cursor: str | None) -> Resume | None:
    if cursor is None:
        return None
    context, position = decode_cursor(cursor, 2)
    return context, None if position == FROM_START else position


def deadletters_router(dead_letters: DeadLetters) -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"])

    def contexts_named(context: str | None) -> list[str]:
        if context is None:
            return dead_letters.contexts
        if context not in dead_letters.contexts:
            raise HTTPException(422, f"No context {context!r} here: {dead_letters.contexts}")
        return [context]

    @router.get("/dead-letters")
    async def list_dead_letters(
        who: Operators,
        context: Annotated[str | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(max_length=400)] = None,
    ) -> dict[str, Any]:
        """Dead letters not yet replayed or discarded, oldest first, context after context:
        where each came from, which consumer group failed, why, and what it is."""
        contexts = contexts_named(context)
        try:
            page = await dead_letters.page(contexts, _resume(cursor), limit)
        except (UnknownContext, BadPosition):
            raise HTTPException(422, "cursor is not one this API handed out") from None
        next_cursor = None
        if page.resume is not None:
            next_context, position = page.resume
            next_cursor = encode_cursor(next_context, position or FROM_START)
        return {"items": page.items, "next_cursor": next_cursor}

    @router.get("/dead-letters/{dead_letter_id}")
    async def dead_letter(dead_letter_id: DeadLetterId, who: Operators) -> dict[str, Any]:
        """One dead letter: its CloudEvent attributes, its data with PHI sealed, its history."""
        try:
            return await dead_letters.show(dead_letter_id)
        except NoDeadLetter:
            raise HTTPException(404, f"No dead letter {dead_letter_id}") from None

    @router.post("/dead-letters/replay")
    async def replay_context(body: ReplayContext, who: OperatorChanges) -> dict[str, Any]:
        """Replay every dead letter of a context still to settle (each record once)."""
        contexts_named(body.context)
        try:
            replayed = await dead_letters.replay_all(body.context, who.sub)
        except NotReplayable as exc:
            raise HTTPException(409, str(exc)) from None
        return {"context": body.context, "replayed": replayed}

    @router.post("/dead-letters/{dead_letter_id}/replay")
    async def replay(dead_letter_id: DeadLetterId, who: OperatorChanges) -> dict[str, Any]:
        """Send the record again to its original topic; its consumers skip what they have."""
        try:
            return await dead_letters.replay(dead_letter_id, who.sub)
        except NoDeadLetter:
            raise HTTPException(404, f"No dead letter {dead_letter_id}") from None
        except NotReplayable as exc:
            raise HTTPException(409, str(exc)) from None

    @router.post("/dead-letters/{dead_letter_id}/discard")
    async def discard(
        dead_letter_id: DeadLetterId, body: Discard, who: OperatorChanges
    ) -> dict[str, Any]:
        """Set a dead letter aside for good; the reason and the operator are recorded."""
        try:
            return await dead_letters.discard(dead_letter_id, body.reason, who.sub)
        except NoDeadLetter:
            raise HTTPException(404, f"No dead letter {dead_letter_id}") from None
        except AlreadySettled as exc:
            raise HTTPException(409, str(exc)) from None

    return router
