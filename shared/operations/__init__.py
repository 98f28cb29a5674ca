"""Operations: what a process offers the teams that run it (routes under /ops, and /metrics).

Suite-level, not a service: each router reads the services of the process it is mounted in."""

from __future__ import annotations

from fastapi import APIRouter

from shared.clock import Clock
from shared.metrics import Metrics
from shared.operations.console import console_router
from shared.operations.metrics import metrics_router
from shared.operations.projections import projections_router
from shared.operations.services import services_router
from shared.replays import Replays
from shared.service import Service


def operations_routers(
    services: list[Service], replays: Replays, clock: Clock, metrics: Metrics
) -> list[APIRouter]:
    """Every operations router of a process running `services`."""
    return [
        projections_router(services, replays, clock),
        metrics_router(metrics, services),
        services_router(services, metrics),
        console_router(services, metrics),
    ]
