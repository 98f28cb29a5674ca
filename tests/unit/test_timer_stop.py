"""A timer stops at once, even when its round swallowed the cancellation."""

from __future__ import annotations

import asyncio
import contextlib

from shared.timers import Timer


class SwallowingTimer(Timer):
    """A round whose driver eats the CancelledError (as a client's retry loop may)."""

    name = "swallowing"

    def __init__(self) -> None:
        super().__init__(every=86_400)
        self.entered = asyncio.Event()
        self.rounds = 0

    async def fire_due(self) -> int:
        self.rounds += 1
        self.entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        return 0


async def test_a_timer_stops_though_its_round_swallowed_the_cancellation() -> None:
    timer = SwallowingTimer()
    await timer.start()
    await asyncio.wait_for(timer.entered.wait(), 5)

    await asyncio.wait_for(timer.stop(), 5)

    assert not timer.running
    assert timer.rounds == 1


async def test_a_stopped_timer_starts_again() -> None:
    timer = SwallowingTimer()
    await timer.start()
    await asyncio.wait_for(timer.entered.wait(), 5)
    await asyncio.wait_for(timer.stop(), 5)
    timer.entered.clear()

    await timer.start()
    await asyncio.wait_for(timer.entered.wait(), 5)

    assert timer.running
    await asyncio.wait_for(timer.stop(), 5)
