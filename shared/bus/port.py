"""Bus port: durable topics, consumer groups with committed offsets, explicit ack.

Semantics every adapter keeps (the contract tests hold them to it):
- `publish` returns once the records are durable; records with one key keep their order.
- A new group starts at the beginning of each topic.
- A handler gets batches; the group's offsets advance only after the handler returns.
  When it raises, nothing is committed and the same records come again after a pause.
- Delivery is at least once: handlers must be idempotent.
- `follow` is a watcher's view, apart from all of that: no group, nothing committed, it starts
  at the end of each topic and sees only what is published from then on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from shared.cloudevents import Message
from shared.errors import RetryLater

MessageHandler = Callable[[Sequence[Message]], Awaitable[None]]


class Subscription(Protocol):
    @property
    def running(self) -> bool: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class ReadRecord:
    """A record read from a topic, and the position just after it (to read on from there)."""

    message: Message
    position: str


@dataclass(frozen=True)
class ReadPage:
    """Records of one topic, oldest first; `position` continues after the last of them (the
    position asked from when there are none); `at_end` when the topic held nothing more."""

    records: tuple[ReadRecord, ...]
    position: str | None
    at_end: bool


class BadPosition(ValueError):
    """A position this bus never handed out (or one of another topic's shape)."""


class Bus(Protocol):
    """Adapters: an in-process log on SQLite (embedded) and Apache Kafka via FastStream."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, messages: Sequence[Message]) -> None: ...

    async def subscribe(
        self,
        group: str,
        topics: Sequence[str],
        handler: MessageHandler,
        *,
        max_batch: int = 500,
    ) -> Subscription: ...

    async def lag(self, group: str, topics: Sequence[str]) -> int:
        """Records in `topics` the group has not yet committed (all of them for a new group)."""
        ...

    async def read(self, topic: str, after: str | None, limit: int) -> ReadPage:
        """Up to `limit` (at least 1) records of `topic` after the position `after` (from its
        beginning when None), oldest first, as a reader outside any consumer group: nothing is
        committed, no group's offsets move. Positions are opaque; BadPosition for a foreign one.
        """
        ...

    async def ping(self) -> None:
        """Raise BusUnavailable when the broker cannot be reached."""
        ...

    def follow(self, topics: Sequence[str]) -> AbstractAsyncContextManager[AsyncIterator[Message]]:
        """Records published to `topics` from now on, as they come, for a watcher (a live tail).

        `async with bus.follow(topics) as records: async for record in records: ...` Once the
        `async with` is entered the position is taken: every record published after that comes,
        in order per key. No consumer group, no commit; leaving the block releases everything
        it held (a Kafka consumer is stopped). `following` counts the blocks still open.
        """
        ...

    @property
    def following(self) -> int:
        """How many `follow` blocks are open now (live tails watching this bus)."""
        ...


class BusUnavailable(RetryLater):
    """The broker cannot be reached; retry later (HTTP 503)."""
