"""The in-process bus prepares the next batch of a staged handler while the current one's
handling waits (its documents' commit syncing), and acknowledges nothing early: offsets advance
only after a handling returns, and a batch prepared ahead of a failed one is dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from shared.bus.inprocess import InProcessBus
from shared.bus.port import Ready
from shared.cloudevents import Message
from shared.sqlite import SqliteDatabase
from tests.support import wait_until


def record(n: int) -> Message:
    return Message(topic="t", key="k", headers={"n": str(n)}, value=b"{}")


def numbers(batch: Sequence[Message]) -> list[int]:
    return [int(m.headers["n"]) for m in batch]


class Gated:
    """A staged handler whose handling of each batch waits until the test lets it go on."""

    def __init__(self) -> None:
        self.events: list[tuple[str, list[int]]] = []
        self.gate = asyncio.Event()
        self.fail_next = False

    def prepare(self, messages: Sequence[Message]) -> Ready:
        self.events.append(("prepared", numbers(messages)))

        async def ready() -> None:
            self.events.append(("handling", numbers(messages)))
            await self.gate.wait()
            if self.fail_next:
                self.fail_next = False
                raise RuntimeError("this batch comes again")
            self.events.append(("handled", numbers(messages)))

        return ready

    async def __call__(self, messages: Sequence[Message]) -> None:
        await self.prepare(messages)()


async def test_the_next_batch_is_prepared_while_the_current_one_is_handled(
    tmp_path: Path,
) -> None:
    bus = InProcessBus(SqliteDatabase(tmp_path / "bus.db"), retry_delay=0.01)
    handler = Gated()
    try:
        await bus.publish([record(n) for n in range(5)])
        await bus.subscribe("g", ["t"], handler, max_batch=2)

        async def second_prepared() -> bool:
            return ("prepared", [2, 3]) in handler.events

        await wait_until(second_prepared, timeout=5, message="the next batch prepared")
        # Prepared ahead, but nothing of the first batch is acknowledged before it is handled.
        assert handler.events == [("prepared", [0, 1]), ("handling", [0, 1]), ("prepared", [2, 3])]
        assert await bus.lag("g", ["t"]) == 5

        handler.fail_next = True  # the first batch fails: the one prepared after it is dropped
        handler.gate.set()

        async def all_handled() -> bool:
            return await bus.lag("g", ["t"]) == 0

        await wait_until(all_handled, timeout=5, message="every record handled")
    finally:
        await bus.stop()
    handled = [n for kind, batch in handler.events if kind == "handled" for n in batch]
    assert handled == [0, 1, 2, 3, 4]  # in order, each once: the failed batch came again first
    handlings = [batch for kind, batch in handler.events if kind == "handling"]
    assert handlings == [[0, 1], [0, 1], [2, 3], [4]]


async def test_a_plain_handler_is_called_batch_after_batch(tmp_path: Path) -> None:
    bus = InProcessBus(SqliteDatabase(tmp_path / "bus.db"))
    calls: list[list[int]] = []

    async def handle(batch: Sequence[Message]) -> None:
        calls.append(numbers(batch))

    try:
        await bus.publish([record(n) for n in range(5)])
        await bus.subscribe("g", ["t"], handle, max_batch=2)

        async def all_handled() -> bool:
            return await bus.lag("g", ["t"]) == 0

        await wait_until(all_handled, timeout=5, message="every record handled")
    finally:
        await bus.stop()
    assert calls == [[0, 1], [2, 3], [4]]
