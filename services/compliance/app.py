"""The one place that wires the compliance service: its declaration for the service kit.

The audit log and the ledger read every context's CloudEvents as they arrive (`AsReceived`): no
producer's classes are needed, and no type is unknown. The ledger's blocks are this service's
own events, kept in its event store and not relayed (its contract says so): nothing else
consumes them, and chained in turn they would chain themselves forever. The compliance
officer's events (policies, incidents) are relayed like any context's, and so audited and chained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.compliance.api import incidents as incidents_api
from services.compliance.api import patients as patients_api
from services.compliance.api import policies as policies_api
from services.compliance.api.audit import build_router
from services.compliance.application.access import Disclosures
from services.compliance.application.anchors import LedgerAnchors
from services.compliance.application.incidents import Incidents
from services.compliance.application.ledger import AuditLedger
from services.compliance.application.policies import Policies
from services.compliance.application.queries import AuditQueries
from services.compliance.consumers import LedgerConsumer
from services.compliance.contracts import CONTRACT
from services.compliance.projections.audit_log import ENTRIES, PROJECTION, AuditLogProjection
from services.compliance.projections.incidents import IncidentsProjection
from services.compliance.projections.policies import PoliciesProjection
from shared.events import AsReceived
from shared.kit import Kit, ServiceSpec
from shared.service import Check, Worker
from shared.settings import key_bytes

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    ledger: AuditLedger
    anchors: LedgerAnchors
    queries: AuditQueries  # the auditor's reads of one patient, one request
    disclosures: Disclosures  # compliance's own PatientRecordAccessed
    policies: Policies
    incidents: Incidents


async def application(kit: Kit) -> UseCases:
    """`kit.producers`: read-only access to each producing context's event store, for
    verification to compare what they hold with what the ledger chained (the auditor's
    privilege: see `services/suite.py`)."""
    key = key_bytes(kit.settings.ledger_key)
    read_models = kit.read_models

    async def audit_log(tenant: str) -> Iterable[tuple[str, str]]:
        entries = await read_models.find(PROJECTION, ENTRIES, {"tenant": tenant})
        return [(e["event_id"], e["data_sha256"]) for e in entries]

    # Heads are anchored in a database of their own, outside the ledger's event store.
    anchors = LedgerAnchors(await kit.backends.documents("compliance_anchors"))
    ledger = AuditLedger(kit.store, kit.clock, kit.ids, key, anchors, audit_log, kit.producers)
    return UseCases(
        ledger=ledger,
        anchors=anchors,
        queries=AuditQueries(read_models),
        disclosures=Disclosures(kit.handler),
        policies=Policies(kit.handler, read_models),
        incidents=Incidents(kit.handler, read_models),
    )


def consumers(kit: Kit, app: UseCases) -> Sequence[Worker]:
    return [LedgerConsumer(app.ledger, kit.bus, kit.topics())]


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    timeout = kit.settings.read_your_writes_timeout
    return [
        build_router(app.queries, app.ledger),
        patients_api.build_router(app.queries, app.disclosures, kit.clock),
        policies_api.build_router(app.policies, kit.read_models, timeout),
        incidents_api.build_router(app.incidents, kit.read_models, timeout),
    ]


def checks(kit: Kit, app: UseCases) -> Mapping[str, Check]:
    return {f"{NAME}.ledger_anchors": app.anchors.store.ping}


SPEC = ServiceSpec(
    contract=CONTRACT,
    reads=AsReceived(),
    projections=(AuditLogProjection, PoliciesProjection, IncidentsProjection),
    keeps_phi=False,  # it never opens patients' data: PHI reaches it sealed, and stays so
    application=application,
    consumers=consumers,
    routers=routers,
    checks=checks,
)
