"""Operations: what a process offers the teams that run it (routes under /ops, and /metrics).

Suite-level, not a service: each router reads the services of the process it is mounted in."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from shared.bus.port import Bus
from shared.clock import Clock
from shared.metrics import Metrics
from shared.operations.metrics import metrics_router
from shared.operations.projections import projections_router
from shared.operations.tail import tail_router
from shared.replays import Replays
from shared.service import Service
from shared.settings import Settings


def operations_routers(
    services: list[Service],
    replays: Replays,
    clock: Clock,
    metrics: Metrics,
    *,
    bus: Bus,
    settings: Settings,
    contexts: Sequence[str],
) -> list[APIRouter]:
    """Every operations router of a process running `services`; the live tail follows every
    one of `contexts` (the suite's, whichever of them this process runs: the bus is shared)."""
    return [
        projections_router(services, replays, clock),
        tail_router(
            bus,
            contexts,
            {c: settings.topic(c) for c in contexts},
            buffer=settings.tail_buffer,
            heartbeat=settings.tail_heartbeat_seconds,
        ),
        metrics_router(metrics, services, bus),
    ]
