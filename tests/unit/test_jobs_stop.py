"""A process's replays and rebuilds stop at once, even when a call in their wait swallowed the
cancellation (as a client library's retry loop may): the wait had gone on polling the lag, up
to the job's timeout (ten minutes), while the suite's stop waited on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from shared.bus.port import MessageHandler
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, EventRegistry
from shared.projections import ProjectionRunner, View
from shared.readmodels import ReadModels
from shared.rebuilds import Rebuilds
from shared.replays import Replays
from shared.sqlite import SqliteDatabase
from tests.support import TEST_EPOCH, TestRunClock


class Appointments:
    name = "appointments"
    contexts = ("scheduling",)
    collections = ("appointments",)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        return None


class Consumer:
    running = True

    async def stop(self) -> None:
        self.running = False


class NeverCaughtUpBus:
    """A lag that never reaches zero; its `swallow_at`-th reading eats the CancelledError."""

    def __init__(self, swallow_at: int) -> None:
        self.swallow_at = swallow_at
        self.readings = 0
        self.entered = asyncio.Event()

    async def subscribe(
        self, group: str, topics: Sequence[str], handler: MessageHandler, *, max_batch: int
    ) -> Consumer:
        return Consumer()

    async def lag(self, group: str, topics: Sequence[str]) -> int:
        self.readings += 1
        if self.readings == self.swallow_at:
            self.entered.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)
        return 1


@pytest.fixture
async def read_models(tmp_path: Path) -> AsyncIterator[ReadModels]:
    db = SqliteDatabase(tmp_path / "documents.db", durability="normal")
    yield ReadModels(SqliteDocumentStore(db))
    await db.close()


def runner(read_models: ReadModels, bus: NeverCaughtUpBus) -> ProjectionRunner:
    return ProjectionRunner(
        Appointments(), read_models, cast(Any, bus), EventRegistry(), lambda c: f"t.{c}"
    )


async def _stopped_quickly(stop: Any) -> None:
    loop = asyncio.get_running_loop()
    asked = loop.time()
    await asyncio.wait_for(stop(), 5)  # on 3.11 a late stop returns: time it
    assert loop.time() - asked < 1.0


async def test_a_replay_stops_though_its_wait_swallowed_the_cancellation(
    read_models: ReadModels,
) -> None:
    bus = NeverCaughtUpBus(swallow_at=1)
    replays = Replays({"appointments": runner(read_models, bus)}, TestRunClock())
    job = await replays.start("appointments", TEST_EPOCH - timedelta(days=1), "ops")
    await asyncio.wait_for(bus.entered.wait(), 5)

    await _stopped_quickly(replays.stop)

    assert bus.readings == 1  # the swallowed reading ended the wait: no other came
    assert (await replays.get(job["id"]) or {})["status"] == "running"  # as a cancel leaves it


async def test_a_rebuild_stops_though_its_wait_swallowed_the_cancellation(
    read_models: ReadModels,
) -> None:
    bus = NeverCaughtUpBus(swallow_at=2)  # the first reading is the total, before the wait
    rebuilds = Rebuilds({"appointments": runner(read_models, bus)}, TestRunClock(), poll=0.01)
    job = await rebuilds.start("appointments", "ops")
    await asyncio.wait_for(bus.entered.wait(), 5)

    await _stopped_quickly(rebuilds.stop)

    ended = await rebuilds.get(job["id"]) or {}
    assert (ended["status"], ended["error"]) == ("failed", "stopped with its process")
    assert await read_models.generation("appointments") == 1  # the live one serves on
