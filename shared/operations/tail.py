"""/ops/events/tail: the events of every context as they are published, for operators, as
Server-Sent Events (see `shared.operations.watch` for what one watch does)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from shared.bus.port import Bus
from shared.operations.access import Operators
from shared.operations.watch import TailFilter, Watch

# Printable ASCII without spaces: every tenant, stream, type and correlation id the suite makes.
_TOKEN = r"^[\x21-\x7e]+$"
Tenant = Annotated[str | None, Query(min_length=1, max_length=64, pattern=_TOKEN)]
Context = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[a-z_]+$")]
EventType = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.]+$",
        description="a full type (`medoffice.scheduling.AppointmentBooked.v1`) or its name "
        "(`AppointmentBooked`, any version)",
    ),
]
Stream = Annotated[str | None, Query(min_length=1, max_length=300, pattern=_TOKEN)]
CorrelationId = Annotated[str | None, Query(min_length=1, max_length=200, pattern=_TOKEN)]
Limit = Annotated[
    int | None, Query(ge=1, le=100_000, description="end the stream after this many events")
]


class EventStream(StreamingResponse):
    """An SSE answer that ends its watch however the answer ends: the client gone (noticed
    as soon as the server says so, not at the next write), the stream done, or cancelled."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(
            watch.frames(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def client_gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            self._watch.close()

        listener = asyncio.create_task(client_gone())
        try:
            await super().__call__(scope, receive, send)
        finally:
            listener.cancel()
            self._watch.close()


def tail_router(
    bus: Bus,
    contexts: Sequence[str],
    topic: dict[str, str],
    *,
    buffer: int,
    heartbeat: float,
) -> APIRouter:
    """`topic` names each context's topic of events; `buffer` is how many events a watcher
    may have waiting before it is dropped, `heartbeat` the longest silence (seconds)."""
    router = APIRouter(prefix="/ops", tags=["operations"])

    @router.get(
        "/events/tail",
        status_code=200,  # said, not read from the class: its constructor takes no status
        response_class=EventStream,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def tail(
        who: Operators,
        tenant: Tenant = None,
        context: Context = None,
        type: EventType = None,  # noqa: A002 - the CloudEvent attribute's name
        stream: Stream = None,
        correlation_id: CorrelationId = None,
        limit: Limit = None,
    ) -> EventStream:
        """Every event published from now on, as Server-Sent Events: one `data:` line of JSON
        per event (its CloudEvent attributes, and its data with PHI shown as
        `{"sealed": true}`), `id:` its event id; a `: heartbeat` comment when nothing happened
        for a while; a last `event: overflow` for a client too slow to keep up."""
        if context is not None and context not in contexts:
            raise HTTPException(422, f"No context {context!r}: one of {', '.join(contexts)}")
        topics = [topic[context]] if context is not None else [topic[c] for c in contexts]
        keep = TailFilter(tenant=tenant, type=type, stream=stream, correlation_id=correlation_id)
        watch = Watch(bus, topics, keep, buffer=buffer, heartbeat=heartbeat, limit=limit)
        await watch.start()
        return EventStream(watch)

    return router
