"""What a wired service hands the process that runs it: routes, workers and health checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter

from shared.eventstore.port import EventStore
from shared.outbox import OutboxRelay
from shared.projections import ProjectionRunner

Check = Callable[[], Awaitable[None]]


@dataclass
class Service:
    name: str
    router: APIRouter
    runners: list[ProjectionRunner] = field(default_factory=list)
    relay: OutboxRelay | None = None
    event_store: EventStore | None = None
    checks: dict[str, Check] = field(default_factory=dict)

    async def start(self) -> None:
        for runner in self.runners:
            await runner.start()
        if self.relay is not None:
            self.relay.start()

    async def stop(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
        for runner in self.runners:
            await runner.stop()

    def runner(self, projection: str) -> ProjectionRunner:
        for runner in self.runners:
            if runner.projection.name == projection:
                return runner
        raise KeyError(projection)

    async def workers_running(self) -> None:
        stopped = [r.projection.name for r in self.runners if not r.running]
        if self.relay is not None and not self.relay.running:
            stopped.append("outbox-relay")
        if stopped:
            raise RuntimeError(f"stopped: {', '.join(stopped)}")
