"""Handling a command: load the stream, fold, decide, append with optimistic concurrency.

A conflict means someone else appended first: reload and decide again, a bounded number of
times. The decision is re-made on fresh state, so an invariant checked in `decide` holds.
Each commit carries the tags the service's `tags` function names for its events (say the
appointment a booking made), so a later command finds the stream by them in the event store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from opentelemetry import trace

from shared.clock import Clock, Ids
from shared.domain import Decider
from shared.events import DomainEvent, EventRegistry, Metadata, seal
from shared.eventstore.port import ConcurrencyConflict, EventStore
from shared.phivault import PhiVault

S = TypeVar("S")
C = TypeVar("C")

tracer = trace.get_tracer("medoffice.commands")

# (tenant, event) -> the tags of the commit that records the event.
Tagger = Callable[[str, DomainEvent], Iterable[str]]


def no_tags(tenant: str, event: DomainEvent) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class Outcome(Generic[S]):
    """What a handled command did: the stream's new version and the events it recorded."""

    stream: str
    stream_version: int
    events: tuple[DomainEvent, ...]
    state: S


class CommandHandler:
    """Runs deciders against the event store. One per service, wired in its app.py."""

    def __init__(
        self,
        store: EventStore,
        registry: EventRegistry,
        clock: Clock,
        ids: Ids,
        on_commit: Callable[[], None] = lambda: None,
        attempts: int = 3,
        vault: PhiVault | None = None,
        tags: Tagger = no_tags,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.ids = ids
        self._on_commit = on_commit
        self._attempts = attempts
        self.vault = vault
        self.tags = tags

    async def load(self, stream: str, decider: Decider[S, C]) -> tuple[S, int]:
        envelopes = await self.store.load(stream)
        state = decider.fold(self.registry.decode(e) for e in envelopes)
        return state, (envelopes[-1].stream_version if envelopes else 0)

    async def handle(
        self,
        stream: str,
        decider: Decider[S, C],
        command: C,
        meta: Metadata,
        subject: str | Callable[[DomainEvent], str | None] | None = None,
    ) -> Outcome[S]:
        """Decide and append. `subject` (CloudEvents) is one for all events, or per event."""
        with tracer.start_as_current_span("command " + type(command).__name__) as span:
            span.set_attribute("medoffice.stream", stream)
            for attempt in range(1, self._attempts + 1):
                state, version = await self.load(stream, decider)
                events = tuple(decider.decide(state, command))
                if not events:
                    return Outcome(stream, version, (), state)
                # PHI leaves the service sealed: the store and the bus never see plaintext.
                stored = [
                    await self.vault.seal_event(e, meta.tenant) if self.vault else e for e in events
                ]
                envelopes = [
                    seal(
                        event,
                        stream=stream,
                        stream_version=version + n,
                        meta=meta,
                        event_id=self.ids.event_id(stream, version + n),
                        time=self.clock.now(),
                        subject=subject(event) if callable(subject) else subject,
                    )
                    for n, event in enumerate(stored, start=1)
                ]
                tags = sorted({t for e in events for t in self.tags(meta.tenant, e)})
                try:
                    await self.store.append(stream, envelopes, version, tags=tags)
                except ConcurrencyConflict:
                    if attempt == self._attempts:
                        raise
                    continue
                self._on_commit()
                new_state = state
                for event in events:
                    new_state = decider.evolve(new_state, event)
                return Outcome(stream, version + len(events), events, new_state)
        raise AssertionError("unreachable")
