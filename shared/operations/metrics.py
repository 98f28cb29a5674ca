"""The Prometheus scrape endpoint of a process: what its metrics counted, and what is read
when scraped: every consumer group's lag and every service's outbox backlog."""

from __future__ import annotations

from fastapi import APIRouter, Response

from shared.bus.port import Bus
from shared.metering import stable_group
from shared.metrics import CONTENT_TYPE, Labels, Lagging, Metrics, read_gauges
from shared.service import Service


def lag_sources(services: list[Service]) -> dict[Labels, Lagging]:
    """Each consumer group's lag, labelled by service, kind and group (a projection's without
    its generation, so a rebuild's switch keeps one series)."""
    sources: dict[Labels, Lagging] = {}
    for service in services:
        for runner in service.runners:
            group = f"projection.{runner.projection.name}"
            sources[_labels(service.name, "projection", group)] = runner.lag
        for worker in service.workers:
            lag = getattr(worker, "lag", None)
            if callable(lag):
                group = stable_group(str(getattr(worker, "group", worker.name)))
                kind = "reactor" if group.startswith("reactor.") else "consumer"
                sources[_labels(service.name, kind, group)] = lag
    return sources


def backlog_sources(services: list[Service]) -> dict[Labels, Lagging]:
    """Each publishing service's outbox backlog: commits its relay has not published yet."""
    return {
        (("service", s.name),): s.event_store.backlog
        for s in services
        if s.event_store is not None and s.relay is not None
    }


def _labels(service: str, kind: str, group: str) -> Labels:
    return (("group", group), ("kind", kind), ("service", service))


def metrics_router(metrics: Metrics, services: list[Service], bus: Bus) -> APIRouter:
    router = APIRouter(tags=["operations"])
    lags, backlogs = lag_sources(services), backlog_sources(services)

    # Not in the OpenAPI document: a scraper's endpoint, not part of the API (and no token).
    @router.get("/metrics", response_class=Response, include_in_schema=False)
    async def exposition() -> Response:
        """Prometheus text exposition (docs/operations.md lists every metric). Counts only:
        no tenant, no PHI, routes by their templates."""
        watching: Labels = ()
        read: dict[str, dict[Labels, float]] = {
            "medoffice_consumer_lag": await read_gauges(lags),
            "medoffice_outbox_backlog": await read_gauges(backlogs),
            "medoffice_tail_watchers": {watching: float(bus.following)},
        }
        return Response(metrics.render(read), media_type=CONTENT_TYPE)

    return router
