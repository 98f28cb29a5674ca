"""Recording what an operator did: one event appended to the `operations` event store, with the
operator as its actor, the request's correlation id, and the platform as its tenant; the
store's outbox relay then publishes it (see `events.py`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from shared.clock import Clock, Ids
from shared.events import DomainEvent, Metadata, seal
from shared.eventstore.port import ConcurrencyConflict, EventStore
from shared.tenancy import PLATFORM


class OperatorLog:
    """The operations event store, written one operator action at a time."""

    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        ids: Ids,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self._clock = clock
        self._ids = ids
        self._on_commit = on_commit

    async def record(
        self,
        stream: str,
        event: DomainEvent,
        *,
        operator: str | None,
        subject: str,
        tags: Sequence[str] = (),
        expected_version: int | None = None,
    ) -> None:
        """Append `event` at the end of `stream` (its streams are short: one dead letter, one
        rebuild), whoever else appended there meanwhile; or only at `expected_version`
        (ConcurrencyConflict when the stream is elsewhere)."""
        correlation = structlog.contextvars.get_contextvars().get("correlation_id")
        meta = Metadata(
            tenant=PLATFORM, actor=operator, correlation_id=correlation or self._ids.new_id()
        )
        while True:
            version = (
                await self.store.version(stream) if expected_version is None else expected_version
            )
            envelope = seal(
                event,
                stream=stream,
                stream_version=version + 1,
                meta=meta,
                event_id=self._ids.event_id(stream, version + 1),
                time=self._clock.now(),
                subject=subject,
            )
            try:
                await self.store.append(stream, [envelope], version, tags=tags)
            except ConcurrencyConflict:
                if expected_version is not None:
                    raise
                continue
            self._on_commit()
            return
