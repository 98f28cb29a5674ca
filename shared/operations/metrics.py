"""The Prometheus scrape endpoint of a process: its counters and, read when scraped, lags."""

from __future__ import annotations

from fastapi import APIRouter, Response

from shared.bus.port import Bus
from shared.metrics import CONTENT_TYPE, Labels, Lagging, Metrics, lags
from shared.service import Service


def metrics_router(metrics: Metrics, services: list[Service], bus: Bus) -> APIRouter:
    router = APIRouter(tags=["operations"])
    projections: dict[str, Lagging] = {
        r.projection.name: r.lag for s in services for r in s.runners
    }
    consumers: dict[str, Lagging] = {}
    for service in services:
        for worker in service.workers:
            lag = getattr(worker, "lag", None)
            if callable(lag):
                consumers[worker.name] = lag

    # Not in the OpenAPI document: a scraper's endpoint, not part of the API (and no token).
    @router.get("/metrics", response_class=Response, include_in_schema=False)
    async def exposition() -> Response:
        """Prometheus text exposition: appends, publishes, dead letters, HTTP answers by
        status, each projection's and consumer's lag, and the live tails open. Counts only:
        no tenant, no PHI."""
        gauges: dict[str, dict[Labels, float]] = {
            "medoffice_projection_lag": await lags(projections),
            "medoffice_consumer_lag": await lags(consumers),
            "medoffice_tail_watchers": {(): float(bus.following)},
        }
        return Response(metrics.render(gauges), media_type=CONTENT_TYPE)

    return router
