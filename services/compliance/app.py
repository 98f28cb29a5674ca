"""The one place that wires the compliance service: its declaration for the service kit.

The audit log and the ledger read every context's CloudEvents as they arrive (`AsReceived`): no
producer's classes are needed, and no type is unknown. The ledger's blocks are this service's
own events, kept in its event store and not relayed (its contract says so): nothing else
consumes them, and chained in turn they would chain themselves forever. The compliance
officer's events (policies, incidents, alerts) are relayed like any context's, and so audited
and chained; alerts are read back into the alerts read model. The monitors
(`application/monitors.py`) run as one reactor (the PHI-access monitors) and one timer per
timed monitor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from services.compliance.api import alerts as alerts_api
from services.compliance.api import incidents as incidents_api
from services.compliance.api import patients as patients_api
from services.compliance.api import policies as policies_api
from services.compliance.api.audit import build_router
from services.compliance.api.exports import build_exports_router
from services.compliance.application.access import record_access_stream
from services.compliance.application.alerts import Alerts
from services.compliance.application.anchors import LedgerAnchors
from services.compliance.application.exports import AuditExports
from services.compliance.application.heads import HeadPublisher, PublishedHeads
from services.compliance.application.incidents import Incidents
from services.compliance.application.index import ChainIndex
from services.compliance.application.ledger import AuditLedger
from services.compliance.application.monitors import Monitors
from services.compliance.application.policies import Policies
from services.compliance.application.privacy_complaints import OpenPrivacyIncidents
from services.compliance.application.queries import AuditQueries
from services.compliance.application.signing import (
    SigningKeyUnusable,
    key_file,
    load_signing_key,
    signing_key_for,
)
from services.compliance.consumers import LedgerConsumer
from services.compliance.contracts import CONTRACT
from services.compliance.domain.disclosures import access as disclosure
from services.compliance.domain.exports import (
    NotAPackage,
    decode_public_key,
    fingerprint,
    public_key_bytes,
    unpack,
    verify_package,
)
from services.compliance.projections.alerts import AlertsProjection
from services.compliance.projections.audit_log import ENTRIES, PROJECTION, AuditLogProjection
from services.compliance.projections.incidents import IncidentsProjection
from services.compliance.projections.policies import PoliciesProjection
from services.compliance.projections.watch import MonitorWatchProjection
from shared.events import AsReceived
from shared.kit import Kit, ServiceSpec
from shared.noticeboard.file import FileNoticeboard
from shared.noticeboard.kafka import KafkaNoticeboard
from shared.noticeboard.port import Noticeboard
from shared.reactions import Reaction
from shared.readmodels import public
from shared.service import Check, Worker
from shared.settings import Settings, key_bytes
from shared.timers import Timer
from shared.usecases import Disclosures

NAME = CONTRACT.context

# What `medoffice audit` uses, offline: the package verifier and the signing key's file.
__all__ = [
    "SPEC",
    "NotAPackage",
    "SigningKeyUnusable",
    "decode_public_key",
    "fingerprint",
    "key_file",
    "load_signing_key",
    "public_key_bytes",
    "signing_key_for",
    "unpack",
    "verify_package",
]


@dataclass(frozen=True)
class UseCases:
    ledger: AuditLedger
    anchors: LedgerAnchors
    queries: AuditQueries  # the auditor's reads of one patient, one request
    disclosures: Disclosures  # compliance's own PatientRecordAccessed
    policies: Policies
    incidents: Incidents
    index: ChainIndex
    heads: HeadPublisher | None  # None on in-memory backends: nothing leaves the process
    exports: AuditExports
    alerts: Alerts  # monitors and alerts (issue 14)
    monitors: Monitors


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
    # The ids of chained events, for dedupe: in compliance's database (beside its read models,
    # in collections of its own that no rebuild touches), not in process memory.
    index = ChainIndex(read_models.store)
    signer = signing_key_for(kit.settings, kit.backends.in_memory)
    # Signed heads, published outside every database at intervals, and read back to verify.
    heads: HeadPublisher | None = None
    published: PublishedHeads | None = None
    if not kit.backends.in_memory:
        board = noticeboard(kit.settings)
        every = kit.settings.ledger_head_publish_seconds
        heads = HeadPublisher(index, board, signer, kit.clock, every)
        published = PublishedHeads(board, signer)
    ledger = AuditLedger(
        kit.store,
        kit.clock,
        kit.ids,
        key,
        anchors,
        index,
        audit_log,
        kit.producers,
        published=published,
    )

    async def logged(tenant: str, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(event_ids), 500):
            where = {"tenant": tenant, "event_id": {"$in": list(event_ids[start : start + 500])}}
            for doc in await read_models.find(PROJECTION, ENTRIES, where):
                entry = public(doc)
                if entry is not None:
                    found[str(entry["event_id"])] = entry
        return found

    exports = AuditExports(ledger, logged, signer, kit.clock)
    policies = Policies(kit.handler, read_models)
    incidents = Incidents(kit.handler, read_models)
    alerts = Alerts(kit.handler, read_models)
    monitors = Monitors(
        alerts, read_models, ledger, policies, incidents, kit.settings, kit.backends.metrics
    )
    return UseCases(
        ledger=ledger,
        anchors=anchors,
        queries=AuditQueries(read_models),
        disclosures=Disclosures(kit.handler, disclosure, record_access_stream),
        policies=policies,
        incidents=incidents,
        index=index,
        heads=heads,
        exports=exports,
        alerts=alerts,
        monitors=monitors,
    )


def noticeboard(settings: Settings) -> Noticeboard:
    """Where signed heads are published: a Kafka topic (scale-out) or a file."""
    if settings.scale_out:
        assert settings.kafka_bootstrap is not None
        return KafkaNoticeboard(settings.kafka_bootstrap, settings.ledger_heads_topic())
    return FileNoticeboard(settings.ledger_heads_file or settings.data_dir / "ledger-heads.jsonl")


def consumers(kit: Kit, app: UseCases) -> Sequence[Worker]:
    return [LedgerConsumer(app.ledger, kit.bus, kit.topics())]


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    timeout = kit.settings.read_your_writes_timeout
    return [
        build_router(app.queries, app.ledger),
        patients_api.build_router(app.queries, app.disclosures, kit.clock),
        policies_api.build_router(app.policies, kit.read_models, timeout),
        incidents_api.build_router(app.incidents, kit.read_models, timeout),
        build_exports_router(app.exports),
        alerts_api.build_router(app.alerts, kit.read_models, timeout),
    ]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    # The monitors that watch events as they arrive, and privacy complaints made incidents.
    return [app.monitors.reaction(), OpenPrivacyIncidents(app.incidents)]


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    heads = [] if app.heads is None else [app.heads]  # signed heads published at intervals
    return [*heads, *app.monitors.timers()]  # and the monitors that look at what is due


def checks(kit: Kit, app: UseCases) -> Mapping[str, Check]:
    return {f"{NAME}.ledger_anchors": app.anchors.store.ping}


SPEC = ServiceSpec(
    contract=CONTRACT,
    reads=AsReceived(),
    projections=(
        AuditLogProjection,
        PoliciesProjection,
        IncidentsProjection,
        MonitorWatchProjection,
        AlertsProjection,
    ),
    keeps_phi=False,  # it never opens patients' data: PHI reaches it sealed, and stays so
    application=application,
    consumers=consumers,
    reactions=reactions,
    timers=timers,
    routers=routers,
    checks=checks,
)
