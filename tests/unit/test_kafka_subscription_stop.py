"""A stopping Kafka consumer never waits on the broker for ever (no broker needed here)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from shared.bus.kafka import KafkaSubscription


class StuckSubscriber:
    """A subscriber whose leave never completes, like a consumer caught in a group join."""

    running = True

    def __init__(self) -> None:
        self.cancelled = False

    async def stop(self) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def _nothing(messages: Any) -> None:
    return None


async def test_a_consumer_that_cannot_leave_is_abandoned_after_the_stop_timeout() -> None:
    subscription = KafkaSubscription("g", _nothing, retry_delay=0.01, stop_timeout=0.05)
    stuck = StuckSubscriber()
    subscription.bind(cast(Any, stuck))

    await asyncio.wait_for(subscription.stop(), timeout=5)

    assert stuck.cancelled
    assert not subscription.running
