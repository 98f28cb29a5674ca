"""The outbox relay stops when asked, even when asked just as a commit wakes it (the test that
found it: a service-layer test that failed right after a command, whose teardown then hung)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shared.backends import Backends
from shared.cloudevents import Message
from shared.events import DomainEvent, Metadata, seal
from shared.outbox import OutboxRelay
from tests.support import wait_until


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


async def test_commits_that_keep_coming_are_published_together_and_a_lone_one_at_once(
    backends: Backends,
) -> None:
    """The first commit after a quiet spell goes out at once; those that follow while it has
    just gone wait out the linger and go in one batch (one publish, one batch per consumer)."""

    class Counted(DomainEvent):
        context = "relay"

    published: list[int] = []

    class CountingBus:
        async def publish(self, messages: Sequence[Message]) -> None:
            published.append(len(messages))
            await backends.bus.publish(messages)

    store = await backends.event_store("relay")
    bus: Any = CountingBus()
    relay = OutboxRelay(store, bus, backends.settings.topic, linger=2)
    relay.start()
    meta = Metadata(tenant="acme", actor="tester", correlation_id="relay-test")

    async def commit(n: int) -> None:
        stream = f"acme:relay:{n}"
        envelope = seal(
            Counted(),
            stream=stream,
            stream_version=1,
            meta=meta,
            event_id=f"event-{n}",
            time=datetime.now(UTC),
        )
        await store.append(stream, [envelope], 0)
        relay.notify()

    async def sent() -> int:
        return sum(published)

    try:
        await commit(0)
        assert await wait_until(sent, timeout=1.5, message="the lone commit") == 1
        for n in range(1, 6):
            await commit(n)
            for _ in range(20):
                await asyncio.sleep(0)  # the relay may run: without a linger it would publish
        assert published == [1]

        async def the_rest_together() -> bool:
            return published == [1, 5]

        await wait_until(the_rest_together, message="the other five in one publish")
    finally:
        await relay.stop()


async def test_events_of_an_unrelayed_type_stay_in_the_store_and_the_others_go_out(
    backends: Backends,
) -> None:
    """A contract may keep some of its event types to the store (compliance's ledger blocks):
    the relay publishes the others, and marks every commit, so it passes the kept ones once."""

    class Kept(DomainEvent):
        context = "relay"

    class Sent(DomainEvent):
        context = "relay"

    published: list[str] = []

    class RecordingBus:
        async def publish(self, messages: Sequence[Message]) -> None:
            published.extend(m.headers["ce_type"] for m in messages)

    store = await backends.event_store("relay")
    bus: Any = RecordingBus()
    relay = OutboxRelay(store, bus, backends.settings.topic, skip={Kept.type_name()})
    meta = Metadata(tenant="acme", actor="tester", correlation_id="relay-skip")
    now = datetime.now(UTC)

    def sealed(event: DomainEvent, stream: str, version: int, n: int) -> Any:
        return seal(
            event, stream=stream, stream_version=version, meta=meta, event_id=f"e-{n}", time=now
        )

    await store.append("acme:kept", [sealed(Kept(), "acme:kept", 1, 1)], 0)  # kept alone
    await store.append(
        "acme:mixed",
        [sealed(Sent(), "acme:mixed", 1, 2), sealed(Kept(), "acme:mixed", 2, 3)],
        0,
    )
    await store.append("acme:sent", [sealed(Sent(), "acme:sent", 1, 4)], 0)
    assert await relay.relay_once() == 3
    assert published == [Sent.type_name(), Sent.type_name()]
    assert await store.unpublished() == []  # every commit marked, the kept ones too
    assert await relay.relay_once() == 0
