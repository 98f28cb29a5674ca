"""A projection runner stops at once, even when its look for another process's switch
swallowed the cancellation (as a document store client's retry loop may): the follower had
carried on looking every poll while the runner's stop waited on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, cast

from shared.bus.port import MessageHandler
from shared.events import EventRegistry
from shared.projections import ProjectionRunner
from shared.readmodels import ReadModels
from tests.unit.test_jobs_stop import Appointments


class EmptyStore:
    async def find(self, collection: str, *args: Any, **kwargs: Any) -> list[Any]:
        return []


class SwallowingReadModels:
    """Generation 0; the follower's first look eats the CancelledError, then answers."""

    def __init__(self) -> None:
        self.store = EmptyStore()
        self.looks = 0
        self.entered = asyncio.Event()

    async def generation(self, projection: str) -> int:
        self.looks += 1
        if self.looks == 2:  # the first look is the runner's start
            self.entered.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)
        return 0


class Consumer:
    running = True

    async def stop(self) -> None:
        self.running = False


class OneConsumerBus:
    def __init__(self) -> None:
        self.consumer = Consumer()

    async def subscribe(
        self, group: str, topics: Sequence[str], handler: MessageHandler, *, max_batch: int
    ) -> Consumer:
        return self.consumer


async def test_a_runner_stops_though_its_switch_follower_swallowed_the_cancellation() -> None:
    read_models = SwallowingReadModels()
    bus = OneConsumerBus()
    runner = ProjectionRunner(
        Appointments(),
        cast(ReadModels, read_models),
        cast(Any, bus),
        EventRegistry(),
        lambda context: f"t.{context}",
        switch_poll=0.01,
    )
    await runner.start()
    await asyncio.wait_for(read_models.entered.wait(), 5)

    loop = asyncio.get_running_loop()
    asked = loop.time()
    await asyncio.wait_for(runner.stop(), 5)  # on 3.11 a late stop returns: time it

    assert loop.time() - asked < 1.0
    assert not bus.consumer.running
    assert read_models.looks == 2
