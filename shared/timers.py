"""A service's timer: a worker that fires what is due every few seconds (no-shows, expired
offers). In `shared/` so that the process running services can tell timers from other workers
without importing a service (it starts them only once the demo is seeded)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from shared.errors import RetryLater

log = structlog.get_logger(__name__)


class Timer:
    """Runs `fire_due` every `every` seconds until stopped; a failing round is logged and
    the next one comes all the same."""

    name = "timer"

    def __init__(self, every: float) -> None:
        self._every = every
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Cancel the round in hand and end the loop. The stop is also a flag the loop reads:
        a round whose driver swallowed the cancellation (a client library's retry, a timeout
        racing it) ends without a second round, and the pause that follows ends at once
        rather than after `every` seconds."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.fire_due()
            except RetryLater as exc:
                log.warning("timer_unavailable", timer=self.name, error=str(exc))
            except Exception:  # noqa: BLE001 - a bug must not stop the timer for good
                log.exception("timer_failed", timer=self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._every)

    async def fire_due(self) -> int:
        raise NotImplementedError
