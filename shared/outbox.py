"""The outbox relay: commits reach the bus in position order, at least once.

The event store is the outbox. The relay publishes unpublished commits, then marks them. A crash
between the two publishes the same commit again after restart; consumers are idempotent.

A commit wakes the relay at once, but while commits keep coming it publishes at most once every
`linger` seconds: the bus then carries them in batches, and every consumer (projections, the
audit log and ledger, reactors) takes each batch in one go (one read, one write and one offset
commit per batch instead of per commit), which in one process leaves the event loop to the
requests. A commit after a quiet spell goes out at once.

Events of a type the contract keeps to the store (`Contract.unrelayed`, `skip` here) are not
published; their commits are marked like the others, so the relay passes them once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Collection

import structlog

from shared.bus.port import Bus
from shared.cloudevents import to_message
from shared.eventstore.port import EventStore

log = structlog.get_logger(__name__)

LINGER = 0.05  # seconds between publishes while commits keep coming


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        bus: Bus,
        topic_for: Callable[[str], str],
        *,
        batch: int = 500,
        poll_interval: float = 0.5,
        retry_delay: float = 1.0,
        linger: float = LINGER,
        skip: Collection[str] = (),
    ) -> None:
        self._store = store
        self._bus = bus
        self._topic_for = topic_for
        self._batch = batch
        self._poll_interval = poll_interval
        self._retry_delay = retry_delay
        self._linger = linger
        self._skip = frozenset(skip)  # type names never published
        self._last_sent = -math.inf  # loop time of the last publish
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def linger(self) -> float:
        """Seconds between publishes while commits keep coming."""
        return self._linger

    @property
    def store(self) -> EventStore:
        """The store whose commits it publishes."""
        return self._store

    def notify(self) -> None:
        """Something was appended: publish it now instead of at the next poll."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish one batch of unpublished commits; return how many commits went out."""
        commits = await self._store.unpublished(self._batch)
        if not commits:
            return 0
        messages = [
            to_message(event, self._topic_for(event.context))
            for commit in commits
            for event in commit.events
            if event.type not in self._skip
        ]
        if messages:
            await self._bus.publish(messages)
        await self._store.mark_published([c.position for c in commits])
        log.debug("outbox_relayed", commits=len(commits), events=len(messages))
        return len(commits)

    async def drain(self) -> None:
        while await self.relay_once():
            pass

    async def run(self) -> None:
        """Relay until stopped. The loop reads a stop flag, not only the cancellation: a
        client library call in `relay_once` may swallow the CancelledError, and the loop
        would then carry on polling for ever while `stop` waits on it."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            try:
                pause = self._last_sent + self._linger - loop.time()
                if pause > 0:
                    await asyncio.sleep(pause)  # gather what else is committed meanwhile
                sent = await self.relay_once()
                if sent:
                    # A full batch means a backlog: the next goes out without a pause.
                    self._last_sent = -math.inf if sent == self._batch else loop.time()
                    continue
            except Exception as exc:  # noqa: BLE001 - backend down: keep the outbox, retry
                log.warning("outbox_relay_failed", error_type=type(exc).__name__, error=str(exc))
                await asyncio.sleep(self._retry_delay)
                continue
            # Not `asyncio.wait_for`: on 3.11 it loses a cancellation that arrives as the wake
            # does, and `stop` then waits forever for a relay that carries on.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval):
                    await self._wake.wait()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
