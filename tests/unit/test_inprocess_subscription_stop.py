"""An embedded bus consumer stops at once, even when its handler swallowed the cancellation (as
a client library's retry loop may): it had carried on consuming while its stop waited on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from shared.bus.inprocess import InProcessBus
from shared.cloudevents import Message
from shared.sqlite import SqliteDatabase


class SwallowingHandler:
    """Eats the CancelledError of its first batch, then returns as if it had handled it."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def __call__(self, messages: Sequence[Message]) -> None:
        if self.entered.is_set():
            return
        self.entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)


async def test_a_consumer_stops_though_its_handler_swallowed_the_cancellation(
    tmp_path: Path,
) -> None:
    bus = InProcessBus(SqliteDatabase(tmp_path / "bus.db", durability="normal"), poll_interval=0.01)
    await bus.publish([Message(topic="t", key="k", headers={}, value=b"x")])
    handler = SwallowingHandler()
    subscription = await bus.subscribe("g", ["t"], handler)
    await asyncio.wait_for(handler.entered.wait(), 5)

    loop = asyncio.get_running_loop()
    asked = loop.time()
    await asyncio.wait_for(subscription.stop(), 5)  # on 3.11 a late stop returns: time it

    assert loop.time() - asked < 1.0
    assert not subscription.running
    await bus.stop()
