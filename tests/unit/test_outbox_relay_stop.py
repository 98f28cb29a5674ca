"""The outbox relay stops at once, even when a publish swallowed the cancellation (as a client
library's retry loop may): it had carried on polling while a suite's stop waited on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from shared.cloudevents import Message
from shared.outbox import OutboxRelay


class OneCommit:
    """An event store with one unpublished commit, ever."""

    def __init__(self, envelope: Any) -> None:
        self.envelope = envelope

    async def unpublished(self, limit: int) -> list[Any]:
        class Commit:
            position = 1
            events = [self.envelope]

        return [Commit()]

    async def mark_published(self, positions: Sequence[int]) -> None:
        return None


class SwallowingBus:
    """A publish that eats the CancelledError once, then returns as if it had sent."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def publish(self, messages: Sequence[Message]) -> None:
        if self.entered.is_set():
            return
        self.entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)


async def test_the_relay_stops_though_a_publish_swallowed_the_cancellation(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(
        "shared.outbox.to_message",
        lambda event, topic: Message(topic=topic, key="k", headers={}, value=b""),
    )
    envelope = type("E", (), {"type": "medoffice.x.Y.v1", "context": "x"})()
    bus = SwallowingBus()
    relay = OutboxRelay(OneCommit(envelope), bus, lambda c: c, poll_interval=0.01)  # type: ignore[arg-type]
    relay.start()
    await asyncio.wait_for(bus.entered.wait(), 5)

    loop = asyncio.get_running_loop()
    asked = loop.time()
    await asyncio.wait_for(relay.stop(), 5)  # on 3.11 a late stop returns, not raises: time it

    assert loop.time() - asked < 1.0
    assert not relay.running
