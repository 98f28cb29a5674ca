"""Operations: what a process offers the teams that run it (routes under /ops, and /metrics).

Suite-level, not a service: each router reads the services of the process it is mounted in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from shared.bus.port import Bus
from shared.clock import Clock
from shared.metrics import Metrics
from shared.operations.console import console_routers
from shared.operations.dead_letter_log import DeadLetters
from shared.operations.deadletters import deadletters_router
from shared.operations.metrics import metrics_router
from shared.operations.projections import projections_router
from shared.operations.rebuilds import rebuilds_router
from shared.operations.services import services_router
from shared.operations.tail import tail_router
from shared.outbox import OutboxRelay
from shared.rebuilds import Rebuilds
from shared.replays import Replays
from shared.service import Service
from shared.settings import Settings


@dataclass
class Operations:
    """The operations side of one process running `services`: built once, mounted once."""

    services: list[Service]
    clock: Clock
    metrics: Metrics
    replays: Replays
    rebuilds: Rebuilds
    dead_letters: DeadLetters
    bus: Bus
    settings: Settings
    contexts: Sequence[str]  # the live tail follows every context of the suite: the bus is shared
    relay: OutboxRelay  # publishes the operations store's events (what operators did)

    def routers(self) -> list[APIRouter]:
        projections = {r.projection.name for s in self.services for r in s.runners}
        settings = self.settings
        return [
            projections_router(self.services, self.replays, self.rebuilds, self.clock),
            rebuilds_router(self.rebuilds, projections),
            tail_router(
                self.bus,
                self.contexts,
                {c: settings.topic(c) for c in self.contexts},
                buffer=settings.tail_buffer,
                heartbeat=settings.tail_heartbeat_seconds,
            ),
            metrics_router(self.metrics, self.services, self.bus),
            deadletters_router(self.dead_letters),
            services_router(self.services, self.metrics),
            *console_routers(self.services, self.metrics, self.dead_letters, self.rebuilds),
        ]
