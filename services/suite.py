"""The whole suite in one process: every service on one set of backends, one HTTP port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException

from services.compliance.app import create_service as create_compliance
from services.scheduling.app import create_service as create_scheduling
from services.scheduling.contracts import registry as scheduling_events
from shared.backends import Backends, open_backends
from shared.clock import Clock, Ids, SystemClock, UuidIds
from shared.http.app import create_http_app
from shared.http.identity import Operator, operator_policy
from shared.observability import configure_tracing
from shared.service import Check, Service
from shared.settings import Settings

# /ops acts on every tenant's read models at once: platform operators only, no tenant's admin.
Operators = Annotated[Operator, operator_policy()]
OperatorChanges = Annotated[Operator, operator_policy(changes_state=True)]


@dataclass
class Suite:
    app: FastAPI
    backends: Backends
    services: list[Service]

    async def start(self) -> None:
        for service in self.services:
            await service.start()

    async def stop(self) -> None:
        for service in reversed(self.services):
            await service.stop()
        await self.backends.close()

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)


def _operations_router(services: list[Service]) -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"])
    runners = {r.projection.name: r for s in services for r in s.runners}

    @router.get("/projections")
    async def projections(who: Operators) -> list[dict[str, Any]]:
        """Every projection of this process: generation, lag, whether it is rebuilding."""
        return [await runner.status() for runner in runners.values()]

    @router.post("/projections/{name}/rebuild")
    async def rebuild(name: str, who: OperatorChanges) -> dict[str, Any]:
        """Replay from the start into a shadow read model, then switch to it atomically."""
        runner = runners.get(name)
        if runner is None:
            raise HTTPException(404, f"No projection {name!r}")
        generation = await runner.rebuild()
        return {"name": name, "generation": generation}

    return router


async def build_suite(
    settings: Settings, clock: Clock | None = None, ids: Ids | None = None
) -> Suite:
    configure_tracing()
    clock, ids = clock or SystemClock(), ids or UuidIds()
    backends = await open_backends(settings)
    scheduling = await create_scheduling(backends, clock, ids)
    # Compliance reads the other services' event stores (read-only) to cross-check its ledger.
    producers = {s.name: s.event_store for s in [scheduling] if s.event_store is not None}
    compliance = await create_compliance(backends, scheduling_events, clock, ids, producers)
    services = [scheduling, compliance]
    checks: dict[str, Check] = {"bus": backends.bus.ping}
    for service in services:
        checks.update(service.checks)
    app = create_http_app(
        settings,
        [*(r for s in services for r in s.routers), _operations_router(services)],
        idempotency=await backends.documents("gateway"),
        readiness=checks,
        clock=clock,
    )
    return Suite(app, backends, services)
