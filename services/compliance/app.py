"""The one place that wires the compliance service: its declaration for the service kit.

The audit log and the ledger read every context's CloudEvents as they arrive (`AsReceived`): no
producer's classes are needed, and no type is unknown. The ledger's blocks are this service's
own events, kept in its event store and not relayed (its contract says so): nothing else
consumes them, and chained in turn they would chain themselves forever. Its alerts are relayed,
and read back into the alerts read model. The monitors (`application/monitors.py`) run as one
reactor (the PHI-access monitors) and one timer per timed monitor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.compliance.api import alerts as alerts_api
from services.compliance.api.audit import build_router
from services.compliance.application.alerts import Alerts
from services.compliance.application.anchors import LedgerAnchors
from services.compliance.application.ledger import AuditLedger
from services.compliance.application.monitors import Monitors
from services.compliance.consumers import LedgerConsumer
from services.compliance.contracts import CONTRACT
from services.compliance.projections.alerts import AlertsProjection
from services.compliance.projections.audit_log import ENTRIES, PROJECTION, AuditLogProjection
from services.compliance.projections.watch import MonitorWatchProjection
from shared.events import AsReceived
from shared.kit import Kit, ServiceSpec
from shared.reactions import Reaction
from shared.service import Check, Worker
from shared.settings import key_bytes
from shared.timers import Timer

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    ledger: AuditLedger
    anchors: LedgerAnchors
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
    ledger = AuditLedger(kit.store, kit.clock, kit.ids, key, anchors, audit_log, kit.producers)
    alerts = Alerts(kit.handler, read_models)
    monitors = Monitors(alerts, read_models, ledger, kit.settings)
    return UseCases(ledger=ledger, anchors=anchors, alerts=alerts, monitors=monitors)


def consumers(kit: Kit, app: UseCases) -> Sequence[Worker]:
    return [LedgerConsumer(app.ledger, kit.bus, kit.topics())]


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    return [
        build_router(kit.read_models, app.ledger),
        alerts_api.build_router(app.alerts, kit.read_models, kit.settings.read_your_writes_timeout),
    ]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return [app.monitors.reaction()]  # the monitors that watch events as they arrive


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return app.monitors.timers()  # the monitors that look at what is due


def checks(kit: Kit, app: UseCases) -> Mapping[str, Check]:
    return {f"{NAME}.ledger_anchors": app.anchors.store.ping}


SPEC = ServiceSpec(
    contract=CONTRACT,
    reads=AsReceived(),
    projections=(AuditLogProjection, MonitorWatchProjection, AlertsProjection),
    keeps_phi=False,  # it never opens patients' data: PHI reaches it sealed, and stays so
    application=application,
    consumers=consumers,
    reactions=reactions,
    timers=timers,
    routers=routers,
    checks=checks,
)
