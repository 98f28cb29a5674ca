"""Operations: what a process offers the teams that run it (routes under /ops, and /metrics).

Suite-level, not a service: each router reads the services of the process it is mounted in."""

from __future__ import annotations

from fastapi import APIRouter

from shared.clock import Clock
from shared.metrics import Metrics
from shared.operations.metrics import metrics_router
from shared.operations.projections import projections_router
from shared.operations.rebuilds import rebuilds_router
from shared.rebuilds import Rebuilds
from shared.replays import Replays
from shared.service import Service


def operations_routers(
    services: list[Service], replays: Replays, rebuilds: Rebuilds, clock: Clock, metrics: Metrics
) -> list[APIRouter]:
    """Every operations router of a process running `services`."""
    projections = {r.projection.name for s in services for r in s.runners}
    return [
        projections_router(services, replays, rebuilds, clock),
        rebuilds_router(rebuilds, projections),
        metrics_router(metrics, services),
    ]
