"""Bus port: durable topics, consumer groups with committed offsets, explicit ack.

Semantics every adapter keeps (the contract tests hold them to it):
- `publish` returns once the records are durable; records with one key keep their order.
- A new group starts at the beginning of each topic.
- A handler gets batches; the group's offsets advance only after the handler returns.
  When it raises, nothing is committed and the same records come again after a pause.
- Delivery is at least once: handlers must be idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from shared.cloudevents import Message
from shared.errors import RetryLater

MessageHandler = Callable[[Sequence[Message]], Awaitable[None]]


class Subscription(Protocol):
    @property
    def running(self) -> bool: ...

    async def stop(self) -> None: ...


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

    async def ping(self) -> None:
        """Raise BusUnavailable when the broker cannot be reached."""
        ...


class BusUnavailable(RetryLater):
    """The broker cannot be reached; retry later (HTTP 503)."""
