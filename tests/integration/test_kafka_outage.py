"""A real broker outage: a private Kafka stopped and started again under a running consumer.

The shared test broker stays up for the other tests; this one restarts a broker of its own
(tests/integration/private_kafka.py) with its data kept, as an operator's restart would.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from shared.bus.kafka import KafkaBus
from shared.bus.port import BusUnavailable
from shared.cloudevents import Message
from tests.contract.test_bus import events
from tests.integration.private_kafka import PrivateKafka
from tests.logs import configured_logging, json_lines
from tests.support import wait_until

pytestmark = pytest.mark.integration

# Lines a few seconds of outage may write: ten per repeated message and a count of the rest.
# Without the limit aiokafka alone writes hundreds (about 1,600 for 12 s here).
LINE_BOUND = 200


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[PrivateKafka]:
    kafka = PrivateKafka(tmp_path / "kafka")
    await kafka.start()
    try:
        yield kafka
    finally:
        await kafka.stop()


class Gate:
    """A handler that keeps what it gets, and holds a batch while the gate is closed."""

    def __init__(self) -> None:
        self.handled: list[Message] = []
        self.holding = asyncio.Event()
        self.open = asyncio.Event()
        self.open.set()

    async def __call__(self, batch: Sequence[Message]) -> None:
        if not self.open.is_set():
            self.holding.set()
            await self.open.wait()
        self.handled.extend(batch)

    async def has(self, count: int) -> bool:
        return len(self.handled) >= count


async def test_after_a_broker_restart_the_group_commits_to_the_end_and_logs_stay_bounded_json(
    broker: PrivateKafka, unique: str
) -> None:
    topic = f"{unique}.medoffice.x.events"
    group = f"{unique}-projection"
    out = io.StringIO()
    got = Gate()
    with configured_logging(out):
        bus = KafkaBus(broker.bootstrap, client_id=unique, retry_delay=0.2, poll_timeout=0.05)
        await bus.start()
        try:
            first = events(topic, ["s-a", "s-b"], per_stream=3)
            await bus.publish(first)
            await bus.subscribe(group, [topic], got)

            async def lag() -> int | None:
                try:
                    return await bus.lag(group, [topic])
                except BusUnavailable:
                    return None

            async def caught_up() -> bool:
                return await lag() == 0

            await wait_until(caught_up, timeout=60, message="the first records committed")

            # The last batch is in hand when the broker goes: its commit falls in the outage.
            got.open.clear()
            last = events(topic, ["s-a"], per_stream=2, start=4)
            await bus.publish(last)
            await asyncio.wait_for(got.holding.wait(), timeout=30)
            lines_before = len(out.getvalue().splitlines())
            await broker.stop()
            down = time.monotonic()
            got.open.set()
            await wait_until(lambda: got.has(len(first) + len(last)), message="the last batch")
            await broker.start()
            outage = time.monotonic() - down

            # Nothing more is published: the commit that was due must still be made.
            await wait_until(caught_up, timeout=90, interval=0.25, message="lag 0 after restart")
        finally:
            await bus.stop()

    lines = json_lines(out.getvalue())
    during = lines[lines_before:]
    assert outage > 2
    assert any(line["logger"].startswith("aiokafka") for line in during)
    assert len(during) <= LINE_BOUND, f"{len(during)} lines for {outage:.0f} s of outage"
    assert all({"level", "logger", "timestamp", "event"} <= line.keys() for line in lines)
