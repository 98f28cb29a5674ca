"""One watch of the live tail on the in-process bus: a client too slow for its buffer is
dropped with a last `event: overflow`, and the bus goes on without it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.bus.inprocess import InProcessBus
from shared.cloudevents import events_topic, to_message
from shared.events import Envelope
from shared.operations.watch import TailFilter, Watch
from shared.sqlite import SqliteDatabase
from tests.support import wait_until

TOPIC = events_topic("scheduling")


def _envelope(n: int, tenant: str = "acme") -> Envelope:
    return Envelope(
        id=f"event-{n}",
        type="medoffice.scheduling.PatientRegistered.v1",
        source="/medoffice/scheduling",
        subject=f"{tenant}:patient:p{n}",
        time=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        stream=f"{tenant}:patient:p{n}",
        stream_version=1,
        tenant=tenant,
        correlation_id=f"corr-{n}",
        actor="desk",
        phi=("name",),
        data={
            "patient_id": f"p{n}",
            "name": {"phi": 1, "subject": f"p{n}", "nonce": "bm9uY2U=", "ct": "c2VjcmV0"},
            "notes": [{"phi": 1, "subject": f"p{n}", "nonce": "bg==", "ct": "Y3Q="}],
        },
    )


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[InProcessBus]:
    bus = InProcessBus(SqliteDatabase(tmp_path / "bus.db", durability="normal"))
    yield bus
    await bus.stop()


async def test_a_client_too_slow_for_its_buffer_is_dropped_with_an_overflow(
    bus: InProcessBus,
) -> None:
    watch = Watch(bus, [TOPIC], TailFilter(), buffer=2, heartbeat=30, limit=None)
    await watch.start()
    frames = watch.frames()
    assert await anext(frames) == ": following\n\n"

    # Nobody reads: the bus publishes on, and the watch lets go of it.
    await bus.publish([to_message(_envelope(n), TOPIC) for n in range(5)])

    async def let_go() -> bool:
        return bus.following == 0

    await wait_until(let_go, message="the watch to leave the bus")
    rest = [chunk async for chunk in frames]
    assert rest == ['event: overflow\ndata: {"reason":"the client did not keep up"}\n\n']


async def test_sealed_values_are_marked_at_any_depth_and_filters_apply(
    bus: InProcessBus,
) -> None:
    keep = TailFilter(tenant="globex", type="PatientRegistered")
    watch = Watch(bus, [TOPIC], keep, buffer=10, heartbeat=30, limit=1)
    await watch.start()
    frames = watch.frames()
    await anext(frames)

    await bus.publish([to_message(_envelope(1), TOPIC), to_message(_envelope(2, "globex"), TOPIC)])

    [chunk] = [chunk async for chunk in frames]
    assert chunk.startswith("id: event-2\ndata: ")
    event = json.loads(chunk.split("data: ", 1)[1])
    assert event["tenant"] == "globex"
    assert event["data"] == {
        "patient_id": "p2",
        "name": {"sealed": True},
        "notes": [{"sealed": True}],
    }

    async def let_go() -> bool:
        return bus.following == 0

    await wait_until(let_go, message="the watch to leave the bus once its limit was reached")
