"""A stream as of a time, for auditors: `GET /<service>/streams/{stream}?as_of=`.

Every service answers for the streams of its own event store: the events recorded up to
`as_of` (their CloudEvents `time`; all of them without it), as stored (PHI sealed, as the
store holds it), and, where the service declares a decider for the stream's kind (the part
after the tenant: `acme:site-day:north:2026-12-01` is a `site-day`), the state those events
fold to, as the command handler folds it (PHI fields still sealed). The service declares its
folds in its wiring (`ServiceSpec.folds`); compliance, which has no other service's classes,
folds nothing but its own. A stream of another tenant is a 404, like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.encoders import jsonable_encoder

from shared.domain import Decider
from shared.events import EventRegistry
from shared.eventstore.port import EventStore
from shared.http.identity import Principal, policy
from shared.http.routes import PlausibleMoment

StreamAuditors = policy("auditor")  # and admin; read-only, the whole tenant
StreamId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_:.-]{1,300}$")]

MAX_EVENTS = 10_000  # a longer stream is read in pages of the store's own API, not here


def stream_kind(stream: str) -> str:
    """The kind of a `<tenant>:<kind>[:<ids>...]` stream."""
    parts = stream.split(":")
    return parts[1] if len(parts) > 1 else ""


def build_router(
    context: str,
    store: EventStore,
    registry: EventRegistry,
    folds: Mapping[str, Decider[Any, Any]],
) -> APIRouter:
    router = APIRouter(prefix=f"/{context}", tags=[context])

    @router.get("/streams/{stream}", name=f"{context}_stream_as_of")
    async def stream_as_of(
        stream: StreamId,
        who: Principal = StreamAuditors,
        as_of: Annotated[PlausibleMoment | None, Query()] = None,
    ) -> dict[str, Any]:
        """The stream's events recorded up to `as_of`, and the state they fold to when this
        service folds streams of its kind."""
        if not stream.startswith(f"{who.tenant}:"):
            raise HTTPException(404, f"No stream {stream}")
        envelopes = await store.load(stream, limit=MAX_EVENTS + 1)
        if len(envelopes) > MAX_EVENTS:
            raise HTTPException(422, f"stream {stream} has more than {MAX_EVENTS} events")
        if not envelopes:
            raise HTTPException(404, f"No stream {stream}")
        then = [e for e in envelopes if as_of is None or e.time <= as_of]
        decider = folds.get(stream_kind(stream))
        state: Any = None
        if decider is not None:
            state = jsonable_encoder(decider.fold(registry.decode(e) for e in then))
        return {
            "stream": stream,
            "as_of": as_of.isoformat() if as_of is not None else None,
            "version": then[-1].stream_version if then else 0,
            "events": [e.model_dump(mode="json") for e in then],
            "folded": decider is not None,
            "state": state,
        }

    return router
