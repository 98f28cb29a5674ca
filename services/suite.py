"""Running services: every one in one process on one HTTP port (`build_suite`), or each named
one with its own backends and HTTP app (`build_service`), which `medoffice serve <service>...`
serves on a port of its own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from services.billing import app as billing
from services.compliance import app as compliance
from services.engagement import app as engagement
from services.finance import app as finance
from services.scheduling import app as scheduling
from services.staffing import app as staffing
from shared.backends import Backends, open_backends
from shared.clock import Clock, Ids, SystemClock, UuidIds
from shared.documents.port import DocumentStore
from shared.eventstore.port import EventStore
from shared.http import fhir
from shared.http.app import create_http_app
from shared.kit import ServiceSpec, assemble
from shared.metering import MeasureRequests, metered
from shared.metrics import Metrics
from shared.observability import configure_tracing
from shared.operations import Operations
from shared.operations.dead_letter_log import DeadLetters
from shared.operations.events import CONTRACT as OPERATIONS
from shared.operations.operator_log import OperatorLog
from shared.outbox import OutboxRelay
from shared.rebuilds import Rebuilds
from shared.replays import Replays
from shared.service import Check, Service, all_stopped
from shared.settings import Settings

# Every service, in the order one process builds and starts them (the auditor last): adding a
# service is its declaration here (and its `<name>_port` setting; see docs/new-service.md).
SERVICES: dict[str, ServiceSpec[Any]] = {
    s.name: s
    for s in (
        scheduling.SPEC,
        staffing.SPEC,
        billing.SPEC,
        finance.SPEC,
        engagement.SPEC,
        compliance.SPEC,
    )
}
AUDITOR = "compliance"  # reads every other service's event store to cross-check its ledger


@dataclass
class Suite:
    """Services served by one HTTP app, and the backends they were built on."""

    app: FastAPI
    backends: Backends
    services: list[Service]
    metrics: Metrics
    replays: Replays
    rebuilds: Rebuilds
    operations_relay: OutboxRelay  # publishes what operators did (`shared/operations/events.py`)

    async def start(self) -> None:
        """Every service's projections, then every service's workers, then the relays: what
        a relay publishes finds the consumers of the whole process started."""
        async with asyncio.TaskGroup() as starting:
            for service in self.services:
                starting.create_task(service.start_runners())
        async with asyncio.TaskGroup() as starting:
            for service in self.services:
                starting.create_task(service.start_workers())
        for service in self.services:
            service.start_relay()
        self.operations_relay.start()

    async def stop(self) -> None:
        """Jobs, then every service's relay, then their workers, then their projections, each
        step's parts at once; then the backends they used."""
        await self.replays.stop()
        await self.rebuilds.stop()
        relays = [service.stop_relay() for service in self.services]
        await all_stopped([*relays, self.operations_relay.stop()])
        await all_stopped(service.stop_workers() for service in self.services)
        await all_stopped(service.stop_runners() for service in self.services)
        await self.backends.close()

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    async def behind(self) -> int:
        """How far the consumers are behind what was written: whether a commit still waits
        for the relay, plus every projection's and worker's lag; 0 when every read model
        holds everything written so far."""
        count = len(await self.operations_relay.store.unpublished(1))
        for service in self.services:
            if service.event_store is not None and service.relay is not None:
                count += len(await service.event_store.unpublished(1))
            for runner in service.runners:
                count += await runner.lag()
            for worker in service.workers:
                lag = getattr(worker, "lag", None)
                if lag is not None:
                    count += await lag()
        return count


async def _operations(
    settings: Settings,
    backends: Backends,
    store: EventStore,
    services: list[Service],
    metrics: Metrics,
    clock: Clock,
    ids: Ids,
) -> Operations:
    """The operations side of a process running `services`. Dead letters are those of these
    services' contexts; what operators do (dead letters replayed or discarded, rebuilds) is
    recorded in the `operations` event `store` (one for the deployment: every process opens
    the same) and relayed to its topic, which compliance audits."""
    runners = {r.projection.name: r for s in services for r in s.runners}
    relay = OutboxRelay(store, backends.bus, settings.topic, linger=settings.relay_linger)
    log = OperatorLog(store, clock, ids, on_commit=relay.notify)
    dead_letters = DeadLetters(
        # Its contexts' dead letters, and the operators' own topic's (compliance may park one).
        backends.bus,
        log,
        [*(s.name for s in services), OPERATIONS.context],
        settings.topic_namespace,
    )
    return Operations(
        services,
        clock,
        metrics,
        Replays(runners, clock),
        Rebuilds(runners, clock, log),
        dead_letters,
        bus=backends.bus,
        settings=settings,
        contexts=[*SERVICES, OPERATIONS.context],
        relay=relay,
    )


def _app(
    settings: Settings,
    title: str,
    backends: Backends,
    idempotency: DocumentStore,
    operations: Operations,
) -> FastAPI:
    services = operations.services
    checks: dict[str, Check] = {"bus": backends.bus.ping}
    for service in services:
        checks.update(service.checks)
    routers = [r for s in services for r in s.routers]
    routers += fhir.server_routers(routers)  # FHIR metadata and 404s, after every service's
    app = create_http_app(
        settings,
        [*routers, *operations.routers()],
        idempotency=idempotency,
        readiness=checks,
        title=title,
        clock=operations.clock,
    )
    app.add_middleware(MeasureRequests, metrics=operations.metrics)
    return app


async def build_suite(
    settings: Settings, clock: Clock | None = None, ids: Ids | None = None
) -> Suite:
    """Every service in this process, on one set of backends, behind one HTTP app."""
    configure_tracing()
    clock, ids = clock or SystemClock(), ids or UuidIds()
    metrics = Metrics()
    backends = metered(await open_backends(settings), metrics)
    services: list[Service] = []
    operations = await backends.event_store(OPERATIONS.context)
    for name, spec in SERVICES.items():
        # The auditor reads the stores of the services built before it, as they are, and
        # the operators' store.
        producers = {s.name: s.event_store for s in services if s.event_store is not None}
        producers[OPERATIONS.context] = operations
        services.append(
            await assemble(spec, backends, clock, ids, producers if name == AUDITOR else {})
        )
    idempotency = await backends.documents("gateway")
    ops = await _operations(settings, backends, operations, services, metrics, clock, ids)
    app = _app(settings, "medoffice", backends, idempotency, ops)
    return Suite(app, backends, services, metrics, ops.replays, ops.rebuilds, ops.relay)


async def build_service(
    name: str, settings: Settings, clock: Clock | None = None, ids: Ids | None = None
) -> Suite:
    """One service alone, as its own process (or beside others in one, each apart): its own
    backends (its event store and read models in its database, `<mongo_database>_<name>`, or
    `<data_dir>/<name>/`), its own idempotency records (in that database too), its consumer
    groups, and an HTTP app with only its routes, checks, projections and metrics.

    The auditor opens the other services' event stores by name, read-only (it only ever reads
    them): the one privilege it has over them, to compare what they hold with what
    its ledger chained."""
    if name not in SERVICES:
        raise KeyError(name)
    configure_tracing()
    clock, ids = clock or SystemClock(), ids or UuidIds()
    metrics = Metrics()
    backends = metered(await open_backends(settings), metrics)
    operations = await backends.event_store(OPERATIONS.context)
    producers: dict[str, EventStore] = {}
    if name == AUDITOR:
        for other in SERVICES:
            if other != AUDITOR:
                producers[other] = await backends.event_store(other)
        producers[OPERATIONS.context] = operations
    service = await assemble(SERVICES[name], backends, clock, ids, producers)
    idempotency = await backends.documents(name)
    ops = await _operations(settings, backends, operations, [service], metrics, clock, ids)
    app = _app(settings, f"medoffice {name}", backends, idempotency, ops)
    return Suite(app, backends, [service], metrics, ops.replays, ops.rebuilds, ops.relay)
