"""Operations: what a process offers the teams that run it (routes under /ops, and /metrics).

Suite-level, not a service: each router reads the services of the process it is mounted in."""

from __future__ import annotations

from fastapi import APIRouter

from shared.clock import Clock
from shared.metrics import Metrics
from shared.operations.dead_letter_log import DeadLetters
from shared.operations.deadletters import deadletters_router
from shared.operations.metrics import metrics_router
from shared.operations.projections import projections_router
from shared.replays import Replays
from shared.service import Service


def operations_routers(
    services: list[Service],
    replays: Replays,
    clock: Clock,
    metrics: Metrics,
    dead_letters: DeadLetters,
) -> list[APIRouter]:
    """Every operations router of a process running `services`."""
    return [
        projections_router(services, replays, clock),
        metrics_router(metrics, services),
        deadletters_router(dead_letters),
    ]
