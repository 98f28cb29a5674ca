"""The outbox relay stops when asked, even when asked just as a commit wakes it (the test that
found it: a service-layer test that failed right after a command, whose teardown then hung)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from shared.backends import Backends
from shared.cloudevents import Message
from shared.outbox import OutboxRelay


async def test_the_relay_stops_when_a_commit_wakes_it_at_the_same_moment(
    backends: Backends,
) -> None:
    store = await backends.event_store("relay")
    for _ in range(20):  # a race: every round must stop
        relay = OutboxRelay(store, backends.bus, backends.settings.topic, poll_interval=60)
        relay.start()
        for _ in range(3):
            await asyncio.sleep(0)  # the relay is now waiting to be woken
        relay.notify()  # a commit wakes it ...
        async with asyncio.timeout(5):
            await relay.stop()  # ... as the service stops
        assert not relay.running


async def test_a_subscription_stops_when_a_publish_wakes_it_at_the_same_moment(
    backends: Backends,
) -> None:
    async def ignore(batch: Sequence[Message]) -> None:
        return None

    topic = backends.settings.topic("relay")
    for n in range(20):
        subscription = await backends.bus.subscribe(f"group-{n}", [topic], ignore)
        for _ in range(3):
            await asyncio.sleep(0)  # it is now waiting for a publish
        await backends.bus.publish([Message(topic=topic, key="k", headers={}, value=b"{}")])
        async with asyncio.timeout(5):
            await subscription.stop()
        assert not subscription.running
