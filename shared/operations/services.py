"""/ops/services: each service of this process, as the operations console shows it: its
readiness checks, the commits its outbox relay has still to publish, and what it appended and
published since the process started.

The same reports feed the console's overview (shared/operations/console), read on the server:
one place decides what a service's state is."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from shared.http.app import probe
from shared.metrics import Metrics
from shared.operations.access import Operators
from shared.service import Service

CHECK_TIMEOUT = 3.0
# Counted up to this many: a longer backlog reads as "at least", without loading it all.
BACKLOG_LIMIT = 1000


async def service_report(service: Service, metrics: Metrics) -> dict[str, Any]:
    """One service: ready when every check passes (each bounded), its outbox backlog, and the
    events its event store appended in this process."""
    names = sorted(service.checks)
    results = await asyncio.gather(*(probe(service.checks[name], CHECK_TIMEOUT) for name in names))
    checks = {name: error or "ok" for name, error in zip(names, results, strict=True)}
    backlog: int | None = None
    if service.event_store is not None and service.relay is not None:
        try:
            backlog = len(await service.event_store.unpublished(BACKLOG_LIMIT))
        except Exception:  # noqa: BLE001 - a store that does not answer has no known backlog
            backlog = None
    appended = metrics.counters.get("medoffice_event_store_events_total", {})
    return {
        "name": service.name,
        "ready": all(result is None for result in results),
        "checks": checks,
        "unpublished_commits": backlog,
        "unpublished_at_least": backlog is not None and backlog >= BACKLOG_LIMIT,
        "events_appended": int(appended.get((("store", service.name),), 0)),
    }


async def service_reports(services: list[Service], metrics: Metrics) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(service_report(s, metrics) for s in services)))


async def consumer_reports(services: list[Service]) -> list[dict[str, Any]]:
    """Every consumer besides projections (reactors, the audit ledger): running, and its lag
    where it has a consumer group."""
    reports: list[dict[str, Any]] = []
    for service in services:
        for worker in service.workers:
            lag = getattr(worker, "lag", None)
            reports.append(
                {
                    "name": worker.name,
                    "service": service.name,
                    "running": worker.running,
                    "lag": await lag() if callable(lag) else None,
                }
            )
    return reports


def services_router(services: list[Service], metrics: Metrics) -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"])

    @router.get("/services")
    async def service_states(who: Operators) -> list[dict[str, Any]]:
        """Each service of this process: its readiness checks (`ok` or what failed), the
        commits its outbox has still to publish (counted up to 1000: `unpublished_at_least`
        then), and the events it appended since the process started."""
        return await service_reports(services, metrics)

    return router
