"""What a wired service hands the process that runs it: routes, workers and health checks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import APIRouter

from shared.eventstore.port import EventStore
from shared.outbox import OutboxRelay
from shared.projections import ProjectionRunner

Check = Callable[[], Awaitable[None]]


class Worker(Protocol):
    """A background task of a service besides projection runners: a reactor, a timer, the
    audit ledger's consumer."""

    @property
    def name(self) -> str: ...

    @property
    def running(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Service:
    name: str
    routers: list[APIRouter]
    runners: list[ProjectionRunner] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    relay: OutboxRelay | None = None
    event_store: EventStore | None = None
    checks: dict[str, Check] = field(default_factory=dict)

    async def start(self) -> None:
        """Projections first, then workers, then the relay. Within each step every part starts
        at once: a Kafka consumer's start waits on the broker's metadata, and sixty of them in
        a row add seconds to every start. One failing start cancels the others of its step."""
        await self.start_runners()
        await self.start_workers()
        self.start_relay()

    async def start_runners(self) -> None:
        async with asyncio.TaskGroup() as starting:
            for runner in self.runners:
                starting.create_task(runner.start())

    async def start_workers(self) -> None:
        async with asyncio.TaskGroup() as starting:
            for worker in self.workers:
                starting.create_task(worker.start())

    def start_relay(self) -> None:
        if self.relay is not None:
            self.relay.start()

    async def stop(self) -> None:
        """The relay, then the workers, then the projections; each step's parts at once."""
        await self.stop_relay()
        await self.stop_workers()
        await self.stop_runners()

    async def stop_relay(self) -> None:
        if self.relay is not None:
            await self.relay.stop()

    async def stop_workers(self) -> None:
        await all_stopped(worker.stop() for worker in self.workers)

    async def stop_runners(self) -> None:
        await all_stopped(runner.stop() for runner in self.runners)

    def runner(self, projection: str) -> ProjectionRunner:
        for runner in self.runners:
            if runner.projection.name == projection:
                return runner
        raise KeyError(projection)

    async def workers_running(self) -> None:
        stopped = [r.projection.name for r in self.runners if not r.running]
        stopped += [w.name for w in self.workers if not w.running]
        if self.relay is not None and not self.relay.running:
            stopped.append("outbox-relay")
        if stopped:
            raise RuntimeError(f"stopped: {', '.join(stopped)}")


async def all_stopped(stops: Iterable[Awaitable[None]]) -> None:
    """Run every stop at once and wait for all of them; then raise the first that failed.
    A Kafka consumer caught in a group join leaves only when that ends (bounded per
    consumer): one after another, a few such would add their waits up."""
    results = await asyncio.gather(*stops, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
