"""The Bus contract for watchers (`follow`): from the end, no group, nothing left behind.

Run against both adapters with the harness of the bus contract (tests/contract/test_bus.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from shared.bus.port import BusUnavailable
from shared.cloudevents import Message, events_topic
from tests.contract import test_bus
from tests.contract.test_bus import Harness, Recorder, events, wire
from tests.support import wait_until

harness = test_bus.harness  # the bus contract's fixture: each adapter in turn


def _ids(messages: list[Message]) -> list[str]:
    return sorted(m.headers["ce_id"] for m in messages)


async def _take(records: AsyncIterator[Message], count: int) -> list[Message]:
    got: list[Message] = []
    async with asyncio.timeout(30):
        async for message in records:
            got.append(message)
            if len(got) == count:
                break
    return got


async def test_a_watcher_sees_only_what_is_published_after_it_started(harness: Harness) -> None:
    before = events(harness.topic, ["s-a", "s-b"], per_stream=2)
    await harness.bus.publish(before)
    after = events(harness.topic, ["s-a", "s-b"], per_stream=3, start=3)

    async with harness.bus.follow([harness.topic]) as records:
        await harness.bus.publish(after[:2])
        await harness.bus.publish(after[2:])
        got = await _take(records, len(after))

    assert _ids(got) == _ids(after)
    for key in ("s-a", "s-b"):
        assert [wire(m) for m in got if m.key == key] == [wire(m) for m in after if m.key == key]


async def test_a_watcher_follows_several_topics_even_one_not_yet_written(
    harness: Harness,
) -> None:
    other = events_topic("y", namespace=f"{harness.unique}.")
    first = events(harness.topic, ["s-a"], per_stream=1)
    second = events(other, ["s-b"], per_stream=1)

    async with harness.bus.follow([harness.topic, other]) as records:
        await harness.bus.publish(second)
        await harness.bus.publish(first)
        got = await _take(records, 2)

    by_topic = {m.topic: wire(m) for m in got}
    assert by_topic == {m.topic: wire(m) for m in [*first, *second]}


async def test_a_watcher_takes_no_group_and_commits_nothing(harness: Harness) -> None:
    sent = events(harness.topic, ["s-a"], per_stream=3)
    async with harness.bus.follow([harness.topic]) as records:
        await harness.bus.publish(sent)
        await _take(records, len(sent))

    # A group subscribing afterwards starts at the beginning: the watch moved nothing.
    async def lag() -> int | None:
        try:
            return await harness.bus.lag(harness.group("later"), [harness.topic])
        except BusUnavailable:
            return None  # a broker just started: its group coordinator is not up yet

    assert await wait_until(lag, message="the later group's lag") == len(sent)
    got = Recorder()
    await harness.subscribe(harness.group("later"), got)
    await wait_until(lambda: got.has(len(sent)), message="every record, from the start")


async def test_two_watchers_each_see_everything(harness: Harness) -> None:
    sent = events(harness.topic, ["s-a", "s-b"], per_stream=2)
    async with (
        harness.bus.follow([harness.topic]) as one,
        harness.bus.follow([harness.topic]) as two,
    ):
        assert harness.bus.following == 2
        await harness.bus.publish(sent)
        got_one = await _take(one, len(sent))
        got_two = await _take(two, len(sent))
    assert _ids(got_one) == _ids(got_two) == _ids(sent)


async def test_leaving_a_watch_releases_it_even_when_cancelled_while_waiting(
    harness: Harness,
) -> None:
    entered = asyncio.Event()

    async def watch() -> None:
        async with harness.bus.follow([harness.topic]) as records:
            entered.set()
            async for _ in records:
                pass

    watcher = asyncio.create_task(watch())
    async with asyncio.timeout(30):
        await entered.wait()
    assert harness.bus.following == 1

    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)

    assert harness.bus.following == 0
    assert watcher.cancelled()


async def test_stopping_the_bus_ends_its_watches(harness: Harness) -> None:
    async with harness.bus.follow([harness.topic]) as records:
        ending = asyncio.create_task(_take(records, 1))
        await asyncio.sleep(0)
        await harness.stop()
        async with asyncio.timeout(30):
            assert await ending == []
    assert harness.bus.following == 0
