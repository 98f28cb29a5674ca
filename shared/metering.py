"""What feeds the metrics of a process (`shared/metrics.py`) as things happen: event stores
that count their appends, a bus that counts what it publishes (dead letters by the consumer
group that gave up on them), and the HTTP middleware that counts and times every answer."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.backends import Backends
from shared.bus.port import Bus, MessageHandler, ReadPage, Subscription
from shared.cloudevents import Message as BusMessage
from shared.events import Envelope
from shared.eventstore.port import Commit, ConcurrencyConflict, EventStore, TagsOf
from shared.metrics import Metrics, route_of

# A projection's consumer group changes with each rebuild (`projection.<name>.g<n>`); its
# metrics keep one series across rebuilds, named without the generation.
_GENERATION = re.compile(r"\.g\d+$")


def stable_group(group: str) -> str:
    """A consumer group's name as metrics label it: a projection's without its generation."""
    return _GENERATION.sub("", group)


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

    async def backlog(self) -> int:
        return await self.store.backlog()

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
    """A bus that counts what it publishes: events per topic; dead letters per topic and the
    consumer group that sent them (the `dlq_group` header `shared/bus/delivery.py` writes)."""

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
                group = stable_group(message.headers.get("dlq_group", "unknown"))
                self._metrics.count(
                    "medoffice_dead_letters_total", group=group, topic=message.topic
                )
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

    async def read(self, topic: str, after: str | None, limit: int) -> ReadPage:
        return await self.bus.read(topic, after, limit)

    def follow(
        self, topics: Sequence[str]
    ) -> AbstractAsyncContextManager[AsyncIterator[BusMessage]]:
        return self.bus.follow(topics)

    @property
    def following(self) -> int:
        return self.bus.following

    async def ping(self) -> None:
        await self.bus.ping()


@dataclass
class MeteredBackends(Backends):
    """Backends whose event stores and bus count what passes through them."""

    async def event_store(self, service: str) -> EventStore:
        return CountingEventStore(await super().event_store(service), service, self.metrics)


def metered(backends: Backends, metrics: Metrics) -> MeteredBackends:
    """`backends` (just opened, nothing taken from them yet) counting into `metrics`."""
    return MeteredBackends(backends.settings, CountingBus(backends.bus, metrics), metrics=metrics)


class MeasureRequests:
    """Pure ASGI, outermost: counts every HTTP answer by method and status (a 500 the shell
    inside answered included) and times it by method, route template and status class, from
    the request's arrival to the end of its answer."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers should nothing inside start an answer
        method = str(scope.get("method", ""))

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                self.metrics.count(
                    "medoffice_http_requests_total", method=method, status=str(status)
                )
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            self.metrics.observe(
                "medoffice_http_request_duration_seconds",
                time.perf_counter() - started,
                method=method,
                route=route_of(scope),
                status_class=f"{status // 100}xx",
            )
