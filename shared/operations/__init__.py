"""Operations: what a process offers the teams that run it (routes under /ops, and /metrics).

Suite-level, not a service: each router reads the services of the process it is mounted in."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from shared.clock import Clock
from shared.metrics import Metrics
from shared.operations.console import console_router
from shared.operations.dead_letter_log import DeadLetters
from shared.operations.deadletters import deadletters_router
from shared.operations.metrics import metrics_router
from shared.operations.projections import projections_router
from shared.operations.rebuilds import rebuilds_router
from shared.operations.services import services_router
from shared.rebuilds import Rebuilds
from shared.replays import Replays
from shared.service import Service


@dataclass
class Operations:
    """The operations side of one process running `services`: built once, mounted once."""

    services: list[Service]
    clock: Clock
    metrics: Metrics
    replays: Replays
    rebuilds: Rebuilds
    dead_letters: DeadLetters

    def routers(self) -> list[APIRouter]:
        projections = {r.projection.name for s in self.services for r in s.runners}
        return [
            projections_router(self.services, self.replays, self.rebuilds, self.clock),
            rebuilds_router(self.rebuilds, projections),
            metrics_router(self.metrics, self.services),
            deadletters_router(self.dead_letters),
            services_router(self.services, self.metrics),
            console_router(self.services, self.metrics),
        ]
