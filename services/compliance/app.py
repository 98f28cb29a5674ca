"""The one place that wires the compliance service."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping

from services.compliance.api.audit import build_router
from services.compliance.application.anchors import LedgerAnchors
from services.compliance.application.ledger import AuditLedger, EventLog
from services.compliance.consumers import LedgerConsumer
from services.compliance.projections.audit_log import (
    CONTEXTS,
    ENTRIES,
    PROJECTION,
    AuditLogProjection,
)
from shared.backends import Backends
from shared.clock import Clock, Ids
from shared.events import AsReceived
from shared.projections import ProjectionRunner
from shared.readmodels import ReadModels
from shared.service import Service

NAME = "compliance"


def ledger_key(encoded: str) -> bytes:
    """The ledger key from its base64 setting; ValueError unless it is 32 bytes."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("MEDOFFICE_LEDGER_KEY is not base64") from exc
    if len(key) != 32:
        raise ValueError("MEDOFFICE_LEDGER_KEY must be 32 bytes, base64")
    return key


async def create_service(
    backends: Backends,
    clock: Clock,
    ids: Ids,
    producers: Mapping[str, EventLog] | None = None,
) -> Service:
    """The audit log and the ledger read every context's CloudEvents as they arrive: no
    producer's classes are needed, and no type is unknown. `producers`: read-only access to
    each producing context's event store, for verification to compare what they hold with
    what the ledger chained (the auditor's privilege: see `services/suite.py`)."""
    settings = backends.settings
    key = ledger_key(settings.ledger_key)
    read_models = ReadModels(await backends.documents(NAME))
    # The ledger's blocks are this service's own events. They are not relayed to the bus:
    # nothing else consumes them, and chained in turn they would chain themselves forever.
    store = await backends.event_store(NAME)

    async def audit_log(tenant: str) -> Iterable[tuple[str, str]]:
        entries = await read_models.find(PROJECTION, ENTRIES, {"tenant": tenant})
        return [(e["event_id"], e["data_sha256"]) for e in entries]

    # Heads are anchored in a database of their own, outside the ledger's event store.
    anchors = LedgerAnchors(await backends.documents("compliance_anchors"))
    ledger = AuditLedger(store, clock, ids, key, anchors, audit_log, producers)
    runner = ProjectionRunner(
        AuditLogProjection(), read_models, backends.bus, AsReceived(), settings.topic
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
        "compliance.ledger_anchors": anchors.store.ping,
        "compliance.workers": service.workers_running,
    }
    return service
