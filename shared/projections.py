"""Projections: pure event handlers over a batch unit of work, fed by the bus.

A projection declares the contexts it reads and the collections it owns, and changes documents
only through `View.change`, which skips an event the document has already seen (a per-stream
version kept inside the document). One batch is loaded once, changed in memory and written with
conditional writes, then acknowledged. Redelivery changes nothing; a concurrent writer makes the
batch run again on fresh documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import orjson
import structlog
from opentelemetry import trace

from shared.bus.delivery import with_dead_letters
from shared.bus.port import Bus, Subscription
from shared.cloudevents import Message
from shared.documents.port import Document, DocumentStore, Write
from shared.errors import RetryLater
from shared.events import DomainEvent, Envelope, EventRegistry
from shared.observability import context_from
from shared.readmodels import ReadModels, physical, seen_key, seen_version

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("medoffice.projections")

Change = Callable[[Document | None], Document | None]
RebuildProgress = Callable[[int, int], Awaitable[None]]  # (events in all, events left)


class Projection(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def contexts(self) -> tuple[str, ...]:
        """The contexts whose events it reads."""
        ...

    @property
    def collections(self) -> tuple[str, ...]:
        """The collections it owns: rebuilt together, switched together."""
        ...

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None: ...


@runtime_checkable
class Prefetching(Protocol):
    """A projection that can name, before applying a batch, the documents it will read."""

    def keys(self, event: DomainEvent, envelope: Envelope) -> Iterable[tuple[str, str]]:
        """(collection, doc id) of every document `apply` reads for this event."""
        ...


@runtime_checkable
class Selective(Protocol):
    """A projection that reads only some event types: the runner neither decodes nor applies
    the others (nor opens a span for them), which `apply` would ignore anyway."""

    @property
    def handles(self) -> tuple[type[DomainEvent], ...]:
        """The event classes `apply` acts on (their subclasses too)."""
        ...


def skipped_types(projection: Projection, registry: EventRegistry) -> frozenset[str] | None:
    """The registered type names a projection may skip unread: every registered type it does
    not handle. None: it reads every event. Names the registry only upcasts from, and names it
    does not know, are never skipped: decoding decides what they are (or dead-letters them)."""
    if not isinstance(projection, Selective):
        return None
    handles = tuple(projection.handles)
    return frozenset(cls.type_name() for cls in registry.events() if not issubclass(cls, handles))


# A catching-up batch's span links the traces of its first 16 events only (the SDK allows 128):
# reading a traceparent and the SDK's attribute map and lock per link came to about a tenth of
# a replay's consumer. The traces of the batch's other events are not linked from it.
_MAX_LINKS = 16
_SPAN_PER_EVENT_UP_TO = 16  # events in a batch; larger batches get one span with links


# W3C trace context, as opentelemetry's TraceContextTextMapPropagator reads it.
_TRACEPARENT = re.compile(
    r"^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:(-.*)|[ \t]*)$"
)
_TRACEPARENT_MAX = 512


def linked_context(traceparent: str) -> trace.SpanContext | None:
    """The remote span a traceparent names, read as the propagator reads it, without the
    contexts it builds around it (a third of its time)."""
    match = _TRACEPARENT.match(traceparent) if len(traceparent) <= _TRACEPARENT_MAX else None
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    context = trace.SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(int(flags, 16)),
    )
    return context if context.is_valid else None


def _span_contexts(envelopes: Sequence[Envelope], limit: int) -> list[trace.SpanContext]:
    seen: dict[str, trace.SpanContext | None] = {}
    for envelope in envelopes:
        if envelope.traceparent and envelope.traceparent not in seen:
            seen[envelope.traceparent] = linked_context(envelope.traceparent)
            if len(seen) >= limit:
                break
    return [c for c in seen.values() if c is not None]


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _copy(value: Any) -> Any:
    """A deep copy of a document for a change to edit. Documents are JSON values, copied here
    without `copy.deepcopy`'s memo of shared objects (a fifth of its time), and scalars kept
    where they sit, without a call each; anything else goes to `copy.deepcopy`."""
    kind = type(value)
    if kind is dict:
        return {
            key: item if type(item) in _IMMUTABLE else _copy(item) for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _IMMUTABLE else _copy(item) for item in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


def _copy_as_read(doc: Document) -> Document:
    """A deep copy of a document as the store gave it: JSON values only, which orjson writes
    and reads back exactly, five times faster than `_copy`'s walk. Anything it will not write
    (a lone surrogate) goes to `_copy`."""
    try:
        copied: Document = orjson.loads(orjson.dumps(doc))
    except orjson.JSONEncodeError:
        return dict(_copy(doc))
    return copied


class StaleBatch(RetryLater):
    """Another writer changed a document this batch read; run the batch again."""


Key = tuple[str, str]  # (collection, document id)


class NewDocuments:
    """The documents of a generation this runner knows to be absent without reading them.

    While a generation that started empty has been written by this runner alone, every document
    the runner has not written is absent: a replay or rebuild then reads nothing back. Another
    writer shows up as a failed insert-must-not-exist; from then on every document is read.
    """

    def __init__(self, fresh: bool, limit: int = 1_000_000) -> None:
        self._fresh = fresh
        self._written: set[Key] = set()
        self._limit = limit

    def absent(self, key: Key) -> bool:
        return self._fresh and key not in self._written

    def wrote(self, keys: Iterable[Key]) -> None:
        if self._fresh:
            self._written.update(keys)
            if len(self._written) > self._limit:
                self.contested()

    def contested(self) -> None:
        self._fresh = False
        self._written.clear()


class View:
    """A projection's unit of work for one batch, over the collections of one generation."""

    def __init__(
        self, store: DocumentStore, generation: int, new: NewDocuments | None = None
    ) -> None:
        self._store = store
        self._generation = generation
        self._new = new or NewDocuments(fresh=False)
        self._docs: dict[Key, Document | None] = {}
        self._revs: dict[Key, int] = {}
        self._dirty: set[Key] = set()
        self._as_read: set[Key] = set()  # documents held as the store gave them

    async def get(self, collection: str, doc_id: str) -> Document | None:
        key = (collection, doc_id)
        if key not in self._docs and self._new.absent(key):
            self._docs[key], self._revs[key] = None, 0
        if key not in self._docs:
            doc = await self._store.get(physical(collection, self._generation), doc_id)
            self._docs[key] = doc
            self._as_read.add(key)
            self._revs[key] = 0 if doc is None else int(doc["_rev"])
        return self._docs[key]

    async def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Load these documents with one read per collection instead of one per document."""
        wanted: dict[str, list[str]] = {}
        for key in keys:
            if key in self._docs:
                continue
            if self._new.absent(key):
                self._docs[key], self._revs[key] = None, 0
            else:
                wanted.setdefault(key[0], []).append(key[1])
        for collection, ids in wanted.items():
            found = await self._store.get_many(physical(collection, self._generation), ids)
            for doc_id in ids:
                doc = found.get(doc_id)
                self._docs[(collection, doc_id)] = doc
                self._revs[(collection, doc_id)] = 0 if doc is None else int(doc["_rev"])
                self._as_read.add((collection, doc_id))

    async def find(self, collection: str, where: dict[str, Any]) -> list[Document]:
        """Read committed documents (not this batch's pending changes)."""
        return await self._store.find(physical(collection, self._generation), where)

    async def change(
        self, collection: str, doc_id: str, envelope: Envelope, change: Change
    ) -> None:
        """Apply `change` to the document unless it has already seen this event."""
        current = await self.get(collection, doc_id)
        if seen_version(current, envelope.stream) >= envelope.stream_version:
            return
        key = (collection, doc_id)
        if current is None:
            updated = change(None)
        else:
            updated = change(_copy_as_read(current) if key in self._as_read else _copy(current))
        if updated is None:
            return
        self._as_read.discard(key)
        seen = dict(updated.get("_seen", {}))
        seen[seen_key(envelope.stream)] = envelope.stream_version
        updated["_seen"] = seen
        self._docs[key] = updated
        self._dirty.add(key)

    async def flush(self) -> set[Key]:
        """Write the changed documents; return their keys, or raise StaleBatch."""
        by_collection: dict[str, list[Write]] = {}
        for collection, doc_id in sorted(self._dirty):
            by_collection.setdefault(collection, []).append(
                Write(
                    doc_id=doc_id,
                    doc=self._docs[(collection, doc_id)],
                    expected_rev=self._revs[(collection, doc_id)],
                )
            )
        stale: list[str] = []
        for collection, writes in by_collection.items():
            stale += await self._store.write(physical(collection, self._generation), writes)
        written, self._dirty = self._dirty, set()
        if stale:
            raise StaleBatch(f"{len(stale)} documents changed concurrently")
        return written


def _recorded_after(message: Message, as_of: datetime) -> bool:
    """The record's CloudEvents time header is after `as_of`. One that is missing or unreadable
    is not: the record goes on to be decoded, and dead-lettered if it is malformed."""
    recorded = message.headers.get("ce_time")
    try:
        return recorded is not None and datetime.fromisoformat(recorded) > as_of
    except (ValueError, TypeError):
        return False


def _unless_stopping(stopping: asyncio.Event) -> None:
    """End a rebuild's or a replay's wait as its cancellation would have, once it is stopping:
    the cancellation itself may have been swallowed by a call in the wait."""
    if stopping.is_set():
        raise asyncio.CancelledError("stopping")


class ProjectionRunner:
    """Feeds one projection from the bus, one consumer group per generation."""

    def __init__(
        self,
        projection: Projection,
        read_models: ReadModels,
        bus: Bus,
        registry: EventRegistry,
        topic_for: Callable[[str], str],
        *,
        max_batch: int = 500,
        attempts: int = 5,
        switch_poll: float = 2.0,
    ) -> None:
        self.projection = projection
        self._read_models = read_models
        self._store = read_models.store
        self._bus = bus
        self._registry = registry
        self._topics = [topic_for(c) for c in projection.contexts]
        self.max_batch = max_batch  # events per batch, for the subscriptions made from now on
        self._attempts = attempts
        self._skipped = skipped_types(projection, registry) or frozenset()
        self._generation = 0
        self._subscription: Subscription | None = None
        self._new: dict[int, NewDocuments] = {}
        self._watch: asyncio.Task[None] | None = None
        self._switch_poll = switch_poll  # seconds between two looks for another's switch
        self._stopping = asyncio.Event()
        self.rebuilding: int | None = None

    @property
    def read_models(self) -> ReadModels:
        return self._read_models

    def group(self, generation: int) -> str:
        return f"projection.{self.projection.name}.g{generation}"

    async def start(self) -> None:
        self._generation = await self._read_models.generation(self.projection.name)
        self._subscription = await self._subscribe(self._generation)
        self._stopping.clear()
        self._watch = asyncio.create_task(self._follow_switches())

    async def stop(self) -> None:
        """End the switch follower, then the subscription. The stop is also a flag the follower
        reads every turn: a document store call that swallowed the cancellation (a client's
        retry) would otherwise leave it looking for ever while this waits on it."""
        self._stopping.set()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._subscription is not None:
            await self._subscription.stop()

    @property
    def running(self) -> bool:
        return self._subscription is not None and self._subscription.running

    async def lag(self) -> int:
        return await self._bus.lag(self.group(self._generation), self._topics)

    async def status(self) -> dict[str, Any]:
        return {
            "name": self.projection.name,
            "generation": self._generation,
            "running": self.running,
            "lag": await self.lag(),
            "rebuilding": self.rebuilding,
        }

    async def rebuild(
        self,
        timeout: float = 600.0,
        poll: float = 0.2,
        *,
        generation: int | None = None,
        progress: RebuildProgress | None = None,
        stopping: asyncio.Event | None = None,
    ) -> int:
        """Replay everything into a new generation (`generation`, else the one after the active
        one), then switch to it atomically. `progress` hears (events in all, events left) as
        the shadow catches up, once per `poll`; whatever it raises abandons the rebuild. An
        abandoned rebuild (failed, timed out, cancelled) drops its shadow generation; the
        live one serves on, untouched. `stopping`, once set, abandons it as a cancellation
        does: the wait reads it every turn, in case a call in it swallowed the cancellation."""
        stopping = stopping or asyncio.Event()
        target = generation or await self._read_models.generation(self.projection.name) + 1
        for collection in self.projection.collections:
            await self._store.drop(physical(collection, target))
        total = await self._bus.lag(self.group(target), self._topics)
        self.rebuilding = target
        shadow = await self._subscribe(target, alone=True)
        try:
            async with asyncio.timeout(timeout):
                while (left := await self._bus.lag(self.group(target), self._topics)) > 0:
                    _unless_stopping(stopping)
                    if progress is not None:
                        await progress(total, left)
                    await asyncio.sleep(poll)
                _unless_stopping(stopping)
        except BaseException:
            await shadow.stop()
            self._new.pop(target, None)
            for collection in self.projection.collections:
                await self._store.drop(physical(collection, target))
            self.rebuilding = None
            raise
        # Once caught up, the switch is not abandoned halfway: a cancel arriving now waits.
        await asyncio.shield(self._switch(shadow, target))
        return target

    async def _switch(self, shadow: Subscription, target: int) -> None:
        # Other processes follow the switch and write here too: stop assuming absence first.
        self._new[target].contested()
        await self._read_models.set_generation(self.projection.name, target)
        old, self._subscription, old_generation = self._subscription, shadow, self._generation
        self._generation, self.rebuilding = target, None
        if old is not None:
            await old.stop()
        for collection in self.projection.collections:
            await self._store.drop(physical(collection, old_generation))
        log.info("projection_rebuilt", projection=self.projection.name, generation=target)

    async def replay(
        self,
        generation: int,
        as_of: datetime,
        progress: Callable[[int, int], Awaitable[None]],
        timeout: float = 600.0,
        poll: float = 0.2,
        stopping: asyncio.Event | None = None,
    ) -> tuple[int, int]:
        """Replay the events recorded up to `as_of` (their CloudEvents `time`) into the scratch
        `generation`, never switched to, in a consumer group of its own read from the start;
        return (events read, events applied) once it has read everything published. Events
        after `as_of` are read and passed over: a stream's events are in time order, so each
        stream is cut at the same point as it stood then. `progress` hears both counts after
        every batch. `stopping`, once set, ends the replay as a cancellation does (see
        `rebuild`)."""
        stopping = stopping or asyncio.Event()
        for collection in self.projection.collections:
            await self._store.drop(physical(collection, generation))
        group = self.group(generation)
        self._new[generation] = NewDocuments(fresh=True)
        read = applied = 0

        async def handle(envelopes: Sequence[Envelope]) -> None:
            nonlocal applied
            due = [e for e in envelopes if e.time <= as_of]
            if due:
                await self._apply(due, generation)
            applied += len(due)

        deliver = with_dead_letters(self._bus, group, handle)

        async def cut(messages: Sequence[Message]) -> None:
            # Records after `as_of` are passed over on their time header, never decoded: most
            # of a replay a year back is reading past them.
            nonlocal read
            due = [m for m in messages if not _recorded_after(m, as_of)]
            if due:
                await deliver(due)
            read += len(messages)
            await progress(read, applied)

        scratch = await self._bus.subscribe(group, self._topics, cut, max_batch=self.max_batch)
        try:
            async with asyncio.timeout(timeout):
                while await self._bus.lag(group, self._topics) > 0:  # noqa: ASYNC110
                    _unless_stopping(stopping)
                    await asyncio.sleep(poll)
                _unless_stopping(stopping)
        finally:
            await scratch.stop()
            self._new.pop(generation, None)
        return read, applied

    async def _subscribe(self, generation: int, *, alone: bool = False) -> Subscription:
        """Consume into `generation`. `alone`: this runner is its only writer (a rebuild's
        shadow), so documents it has not written yet need not be read; nor need they when the
        generation is empty as the runner starts."""
        group = self.group(generation)
        self._new[generation] = NewDocuments(fresh=alone or await self._empty(generation))

        async def handle(envelopes: Sequence[Envelope]) -> None:
            await self._apply(envelopes, generation)

        return await self._bus.subscribe(
            group,
            self._topics,
            with_dead_letters(self._bus, group, handle),
            max_batch=self.max_batch,
        )

    async def _empty(self, generation: int) -> bool:
        """Whether the generation holds no document yet (a first start, a new projection):
        then, like a rebuild's shadow, the runner need not read back what it has not written.
        Another writer shows up as a failed insert-must-not-exist, and from then on it reads."""
        for collection in self.projection.collections:
            if await self._store.find(physical(collection, generation), limit=1):
                return False
        return True

    async def _apply(self, envelopes: Sequence[Envelope], generation: int) -> None:
        new = self._new.setdefault(generation, NewDocuments(fresh=False))
        if self._skipped:
            envelopes = [e for e in envelopes if e.type not in self._skipped]
            if not envelopes:
                await self._read_models.notify()
                return
        for attempt in range(1, self._attempts + 1):
            view = View(self._store, generation, new)
            events = [self._registry.decode(envelope) for envelope in envelopes]
            if isinstance(self.projection, Prefetching):
                projection = self.projection
                await view.prefetch(
                    key
                    for e, env in zip(events, envelopes, strict=True)
                    for key in projection.keys(e, env)
                )
            if len(envelopes) <= _SPAN_PER_EVENT_UP_TO:
                # Live traffic: each event's span continues the trace of its request.
                for event, envelope in zip(events, envelopes, strict=True):
                    with tracer.start_as_current_span(
                        f"project {self.projection.name}",
                        context=context_from(envelope.traceparent),
                    ) as span:
                        span.set_attribute("medoffice.event_type", envelope.type)
                        await self.projection.apply(event, envelope, view)
            else:
                # Catching up (replay, rebuild, backlog): one span for the batch, linked to
                # the requests' traces; a span per event would cost more than the projecting.
                links = [trace.Link(c) for c in _span_contexts(envelopes, limit=_MAX_LINKS)]
                with tracer.start_as_current_span(
                    f"project {self.projection.name}", links=links
                ) as span:
                    span.set_attribute("medoffice.events", len(envelopes))
                    for event, envelope in zip(events, envelopes, strict=True):
                        await self.projection.apply(event, envelope, view)
            try:
                new.wrote(await view.flush())
                break
            except StaleBatch:
                new.contested()  # someone else writes here too: read before writing
                if attempt == self._attempts:
                    raise
        await self._read_models.notify()

    async def _follow_switches(self) -> None:
        """Another process may have rebuilt this projection: move to the generation it chose."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._switch_poll):
                    await self._stopping.wait()
            if self._stopping.is_set():
                return
            try:
                active = await self._read_models.generation(self.projection.name)
            except Exception:  # noqa: BLE001 - backend down: look again next time
                continue
            if self._stopping.is_set():
                return  # the look swallowed the cancellation: subscribe to nothing new
            if active > self._generation and self.rebuilding is None:
                old = self._subscription
                self._subscription = await self._subscribe(active)
                self._generation = active
                if old is not None:
                    await old.stop()
