"""Metrics in the Prometheus text exposition format (0.0.4), written by hand: a few counters
kept per process, and gauges read when scraped.

Counted as they happen: commits and events appended to each event store, records published
to the bus (events, and dead letters apart), conflicts, and HTTP answers by status. Read at
scrape time: each projection's and consumer's lag. Nothing in a sample names a tenant, a
patient or a path, so the exposition holds no PHI and stays small.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.backends import Backends
from shared.bus.port import Bus, MessageHandler, Subscription
from shared.cloudevents import Message as BusMessage
from shared.events import Envelope
from shared.eventstore.port import Commit, ConcurrencyConflict, EventStore, TagsOf

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]

HELP = {
    "medoffice_event_store_commits_total": "Commits appended to an event store",
    "medoffice_event_store_events_total": "Events appended to an event store",
    "medoffice_event_store_conflicts_total": "Appends refused: the stream had moved on",
    "medoffice_bus_published_total": "Records published to a topic of events",
    "medoffice_dead_letters_total": "Records sent to a dead-letter topic",
    "medoffice_http_requests_total": "HTTP answers, by method and status",
    "medoffice_projection_lag": "Records a projection's consumer group has not committed",
    "medoffice_consumer_lag": "Records a consumer (reactor, ledger) has not committed",
    "medoffice_tail_watchers": "Live tails of the event streams open now",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: Labels, value: float) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    number = repr(float(value)) if value != int(value) else str(int(value))
    return f"{name}{{{inner}}} {number}" if inner else f"{name} {number}"


@dataclass
class Metrics:
    """The counters of one process (or of one service, when each has its own)."""

    counters: dict[str, dict[Labels, float]] = field(default_factory=dict)

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        series = self.counters.setdefault(name, {})
        key = tuple(sorted(labels.items()))
        series[key] = series.get(key, 0) + amount

    def render(self, gauges: dict[str, dict[Labels, float]] | None = None) -> str:
        lines: list[str] = []
        for kind, families in (("counter", self.counters), ("gauge", gauges or {})):
            for name in sorted(families):
                lines.append(f"# HELP {name} {HELP.get(name, name)}")
                lines.append(f"# TYPE {name} {kind}")
                lines += [_sample(name, k, v) for k, v in sorted(families[name].items())]
        return "\n".join(lines) + "\n"


class CountingEventStore:
    """An event store that counts its appends; everything else is the store's own."""

    def __init__(self, store: EventStore, service: str, metrics: Metrics) -> None:
        self.store = store
        self._service = service
        self._metrics = metrics

    async def append(
        self,
        stream: str,
        events: Sequence[Envelope],
        expected_version: int,
        tags: Sequence[str] = (),
    ) -> Commit:
        try:
            commit = await self.store.append(stream, events, expected_version, tags)
        except ConcurrencyConflict:
            self._metrics.count("medoffice_event_store_conflicts_total", store=self._service)
            raise
        self._metrics.count("medoffice_event_store_commits_total", store=self._service)
        self._metrics.count("medoffice_event_store_events_total", len(events), store=self._service)
        return commit

    async def load(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Envelope]:
        return await self.store.load(stream, after_version, limit)

    async def version(self, stream: str) -> int:
        return await self.store.version(stream)

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Commit]:
        return await self.store.read_all(after_position, limit)

    async def unpublished(self, limit: int = 1000) -> list[Commit]:
        return await self.store.unpublished(limit)

    async def mark_published(self, positions: Sequence[int]) -> None:
        await self.store.mark_published(positions)

    async def streams_tagged(self, tag: str) -> list[str]:
        return await self.store.streams_tagged(tag)

    async def backfill_tags(self, tags_of: TagsOf, batch: int = 500) -> int:
        return await self.store.backfill_tags(tags_of, batch)

    async def ping(self) -> None:
        await self.store.ping()

    async def close(self) -> None:
        await self.store.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)  # an adapter's own extras (tests reach for them)


class CountingBus:
    """A bus that counts what it publishes: events per topic, dead letters apart."""

    def __init__(self, bus: Bus, metrics: Metrics) -> None:
        self.bus = bus
        self._metrics = metrics

    async def start(self) -> None:
        await self.bus.start()

    async def stop(self) -> None:
        await self.bus.stop()

    async def publish(self, messages: Sequence[BusMessage]) -> None:
        await self.bus.publish(messages)
        for message in messages:
            if message.topic.endswith(".dlq"):
                self._metrics.count("medoffice_dead_letters_total", topic=message.topic)
            else:
                self._metrics.count("medoffice_bus_published_total", topic=message.topic)

    async def subscribe(
        self,
        group: str,
        topics: Sequence[str],
        handler: MessageHandler,
        *,
        max_batch: int = 500,
    ) -> Subscription:
        return await self.bus.subscribe(group, topics, handler, max_batch=max_batch)

    async def lag(self, group: str, topics: Sequence[str]) -> int:
        return await self.bus.lag(group, topics)

    async def ping(self) -> None:
        await self.bus.ping()

    def follow(
        self, topics: Sequence[str]
    ) -> AbstractAsyncContextManager[AsyncIterator[BusMessage]]:
        return self.bus.follow(topics)

    @property
    def following(self) -> int:
        return self.bus.following


@dataclass
class MeteredBackends(Backends):
    """Backends whose event stores and bus count what passes through them."""

    metrics: Metrics = field(default_factory=Metrics)

    async def event_store(self, service: str) -> EventStore:
        return CountingEventStore(await super().event_store(service), service, self.metrics)


def metered(backends: Backends, metrics: Metrics) -> MeteredBackends:
    """`backends` (just opened, nothing taken from them yet) counting into `metrics`."""
    return MeteredBackends(backends.settings, CountingBus(backends.bus, metrics), metrics=metrics)


class CountRequests:
    """Pure ASGI: counts every HTTP answer by method and status (a 500 the shell inside
    answered included)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.count(
                    "medoffice_http_requests_total",
                    method=str(scope.get("method", "")),
                    status=str(message["status"]),
                )
            await send(message)

        await self.app(scope, receive, counted)


Lagging = Callable[[], Awaitable[int]]


async def lags(named: dict[str, Lagging]) -> dict[Labels, float]:
    """Each one's lag, by name; one that cannot be read now (a backend down) is left out."""
    found: dict[Labels, float] = {}
    for name, lag in named.items():
        try:
            found[(("name", name),)] = await lag()
        except Exception:  # noqa: BLE001, S112 - a scrape never fails for one source
            continue
    return found
