"""Handling a command: load the stream, fold, decide, append with optimistic concurrency.

A conflict means someone else appended first: reload and decide again, a bounded number of
times. The decision is re-made on fresh state, so an invariant checked in `decide` holds.
Each commit carries the tags the service's `tags` function names for its events (say the
appointment a booking made), so a later command finds the stream by them in the event store.

Folded states are kept per process (`FoldedStates`, bounded, least recently used first out)
with the version they are folded to. A load reads only the events after that version from the
event store and folds them on: the store stays the truth, so another process appending to the
same stream is seen by the next load, and a command decided on a state that fell behind
meanwhile fails its append on the expected version and reloads the tail. The states kept are
folded from the events as stored (PHI sealed, never the plaintext a command was decided with),
and those that saw a patient's sealed PHI are dropped when that patient is forgotten.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from opentelemetry import trace

from shared.clock import Clock, Ids
from shared.domain import Decider, DomainError
from shared.events import DomainEvent, Envelope, EventRegistry, Metadata, seal
from shared.eventstore.port import ConcurrencyConflict, EventStore
from shared.phi import PhiEvent
from shared.phivault import PhiVault

S = TypeVar("S")
C = TypeVar("C")

tracer = trace.get_tracer("medoffice.commands")

# (tenant, event) -> the tags of the commit that records the event.
Tagger = Callable[[str, DomainEvent], Iterable[str]]

# (command, outcome) -> nothing: how a handler reports what became of each command it handled.
CountOutcome = Callable[[str, str], None]

# Folded states kept per handler: a site's busy day is a few hundred kilobytes folded.
CACHED_STREAMS = 2048


def no_tags(tenant: str, event: DomainEvent) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class Outcome(Generic[S]):
    """What a handled command did: the stream's new version and the events it recorded."""

    stream: str
    stream_version: int
    events: tuple[DomainEvent, ...]
    state: S


@dataclass(frozen=True)
class _Folded:
    decider: Decider[Any, Any]
    state: Any
    version: int
    patients: frozenset[tuple[str, str]]  # (tenant, patient) whose sealed PHI the fold saw


class FoldedStates:
    """A stream's state per (stream, decider), folded up to a version; least recently used
    first out. States are immutable (frozen dataclasses of tuples and read-only mappings), so
    one may be shared by every command that reads it."""

    def __init__(self, size: int = CACHED_STREAMS) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, int], _Folded] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, stream: str, decider: Decider[S, Any]) -> _Folded | None:
        key = (stream, id(decider))
        found = self._entries.get(key)
        if found is None or found.decider is not decider:
            return None
        self._entries.move_to_end(key)
        return found

    def put(self, stream: str, folded: _Folded) -> None:
        if self._size <= 0:
            return
        key = (stream, id(folded.decider))
        current = self._entries.get(key)
        # Two loads of one stream may finish out of order: keep the one folded further.
        if current is not None and current.decider is folded.decider:
            if current.version > folded.version:
                return
        self._entries[key] = folded
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, tenant: str, patient: str) -> int:
        """Drop every state that saw the patient's PHI; how many were dropped."""
        gone = [k for k, f in self._entries.items() if (tenant, patient) in f.patients]
        for key in gone:
            del self._entries[key]
        return len(gone)

    def clear(self) -> None:
        self._entries.clear()


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
        cached_streams: int = CACHED_STREAMS,
        count: CountOutcome = lambda command, outcome: None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.ids = ids
        self._on_commit = on_commit
        self._attempts = attempts
        self.vault = vault
        self.tags = tags
        self.states = FoldedStates(cached_streams)
        self._count = count
        if vault is not None:
            vault.on_forget(self.states.forget)

    async def load(self, stream: str, decider: Decider[S, C]) -> tuple[S, int]:
        """The stream's state and version: the kept state with the events after it folded on
        (all of them when none is kept), read from the event store every time."""
        kept = self.states.get(stream, decider)
        if kept is None:
            kept = _Folded(decider, decider.initial, 0, frozenset())
        envelopes = await self.store.load(stream, after_version=kept.version)
        if envelopes:
            kept = self._fold_on(kept, envelopes)
        self.states.put(stream, kept)
        state: S = kept.state
        return state, kept.version

    def _fold_on(self, kept: _Folded, envelopes: Sequence[Envelope]) -> _Folded:
        state, patients = kept.state, kept.patients
        for envelope in envelopes:
            event = self.registry.decode(envelope)
            state = kept.decider.evolve(state, event)
            if envelope.phi and isinstance(event, PhiEvent):
                subject = getattr(event, event.phi_subject, None)
                if isinstance(subject, str):
                    patients = patients | {(envelope.tenant, subject)}
        return _Folded(kept.decider, state, envelopes[-1].stream_version, patients)

    async def handle(
        self,
        stream: str,
        decider: Decider[S, C],
        command: C,
        meta: Metadata,
        subject: str | Callable[[DomainEvent], str | None] | None = None,
    ) -> Outcome[S]:
        """Decide and append. `subject` (CloudEvents) is one for all events, or per event.

        Each command's outcome is counted: accepted (events appended), unchanged (nothing to
        append: a repeat), rejected (the decider refused it) or conflict (other writers kept
        moving the stream through every attempt)."""
        name = type(command).__name__
        try:
            outcome = await self._handle(stream, decider, command, meta, subject)
        except DomainError:
            self._count(name, "rejected")
            raise
        except ConcurrencyConflict:
            self._count(name, "conflict")
            raise
        self._count(name, "accepted" if outcome.events else "unchanged")
        return outcome

    async def _handle(
        self,
        stream: str,
        decider: Decider[S, C],
        command: C,
        meta: Metadata,
        subject: str | Callable[[DomainEvent], str | None] | None,
    ) -> Outcome[S]:
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
                    continue  # the next load reads the tail the other writer appended
                self._on_commit()
                new_state = state
                for event in events:
                    new_state = decider.evolve(new_state, event)
                return Outcome(stream, version + len(events), events, new_state)
        raise AssertionError("unreachable")
