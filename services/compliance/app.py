"""The one place that wires the compliance service."""

from __future__ import annotations

from collections.abc import Iterable

from services.compliance.api import build_router
from services.compliance.application.ledger import AuditLedger
from services.compliance.consumers import LedgerConsumer
from services.compliance.projections.audit_log import (
    CONTEXTS,
    ENTRIES,
    PROJECTION,
    AuditLogProjection,
)
from shared.backends import Backends
from shared.clock import Clock, Ids
from shared.events import EventRegistry
from shared.projections import ProjectionRunner
from shared.readmodels import ReadModels
from shared.service import Service

NAME = "compliance"


async def create_service(
    backends: Backends, registry: EventRegistry, clock: Clock, ids: Ids
) -> Service:
    """`registry` knows every context's events: the audit log records them all."""
    settings = backends.settings
    read_models = ReadModels(await backends.documents(NAME))
    # The ledger's blocks are this service's own events. They are not relayed to the bus:
    # nothing else consumes them, and chained in turn they would chain themselves forever.
    store = await backends.event_store(NAME)

    async def audit_log(tenant: str) -> Iterable[tuple[str, str]]:
        entries = await read_models.find(PROJECTION, ENTRIES, {"tenant": tenant})
        return [(e["event_id"], e["data_sha256"]) for e in entries]

    ledger = AuditLedger(store, clock, ids, audit_log)
    runner = ProjectionRunner(
        AuditLogProjection(), read_models, backends.bus, registry, settings.topic
    )
    consumer = LedgerConsumer(ledger, backends.bus, [settings.topic(c) for c in CONTEXTS])
    service = Service(
        name=NAME,
        routers=[build_router(read_models, ledger)],
        runners=[runner],
        workers=[consumer],
        event_store=store,
    )
    service.checks = {
        "compliance.event_store": store.ping,
        "compliance.read_models": read_models.store.ping,
        "compliance.workers": service.workers_running,
    }
    return service
