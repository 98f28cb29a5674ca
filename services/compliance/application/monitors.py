"""The monitors: what each one looks at, and the registry that runs them.

A monitor is one async function and one line in `MONITORS`:
- `Timed(name, find, every)`: `find(sight)` runs on a timer (every `every(settings)` seconds)
  and returns its findings as of `sight.now` (the service's clock, which tests move);
- `OnEvent(name, types, find)`: `find(sight, envelope)` runs for each event of those types as
  compliance receives it (one reactor feeds them all, `MonitorReaction`).
Each finding becomes an alert through `Alerts.raise_alert`, once (see `application/alerts.py`).
The facts the monitors decide from are the watch (`projections/watch.py`), read from staffing's
and scheduling's events (and billing's reads) through their contracts, and compliance's own ledger.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from services.billing.contracts import PatientRecordAccessed as BillingRecordAccessed
from services.compliance.application.alerts import Alerts
from services.compliance.application.incidents import Incidents
from services.compliance.application.ledger import AuditLedger
from services.compliance.application.policies import Policies
from services.compliance.domain import monitors as rules
from services.compliance.domain.alerts import Finding
from services.compliance.projections import watch
from services.scheduling.contracts import PatientRecordAccessed
from shared.documents.port import Document, DocumentStore, Write
from shared.events import DomainEvent, Envelope
from shared.metrics import Metrics
from shared.readmodels import ReadModels
from shared.settings import Settings
from shared.timers import Timer

log = structlog.get_logger(__name__)

READS = "monitor_reads"  # one document per reader, hour and patient read in it


@dataclass(frozen=True)
class Sight:
    """What a monitor may look at: the watch, the ledger, the officer's policies and
    incidents, the settings and the time."""

    read_models: ReadModels
    documents: DocumentStore  # compliance's own documents (the reads the volume monitor counts)
    ledger: AuditLedger
    policies: Policies
    incidents: Incidents
    settings: Settings
    now: datetime
    metrics: Metrics  # the process's: the ledger monitor reports each round there

    async def tenants(self) -> list[str]:
        """The tenants compliance watches (those with a site)."""
        return sorted({str(d["tenant"]) for d in await self.watching(watch.TENANTS, {})})

    async def watched(self, collection: str, tenant: str, *parts: str) -> Document | None:
        return await self.read_models.get(watch.PROJECTION, collection, watch.key(tenant, *parts))

    async def watching(self, collection: str, where: dict[str, Any]) -> list[Document]:
        return await self.read_models.find(watch.PROJECTION, collection, where)

    async def people(self, docs: Iterable[Document]) -> dict[tuple[str, str], Document]:
        """The people these documents name (`tenant`, `employee_id`), by (tenant, employee)."""
        wanted = sorted({(d["tenant"], d["employee_id"]) for d in docs})
        name = await self.read_models.collection(watch.PROJECTION, watch.PEOPLE)
        found = await self.read_models.store.get_many(name, [watch.key(*k) for k in wanted])
        return {k: found[watch.key(*k)] for k in wanted if watch.key(*k) in found}


Find = Callable[[Sight], Awaitable[Iterable[Finding]]]
FindOnEvent = Callable[[Sight, Envelope], Awaitable[Iterable[Finding]]]


@dataclass(frozen=True)
class Timed:
    name: str
    find: Find
    every: Callable[[Settings], float]


@dataclass(frozen=True)
class OnEvent:
    name: str
    types: frozenset[str]
    find: FindOnEvent

    @property
    def contexts(self) -> tuple[str, ...]:
        return tuple(sorted({t.split(".")[1] for t in self.types}))


Monitor = Timed | OnEvent


# ------------------------------------------------------------------------------- timed


def _site_of(person: Document | None) -> str | None:
    sites = (person or {}).get("site_ids") or []
    return str(sorted(sites)[0]) if sites else None


async def credentials_due(sight: Sight) -> Iterable[Finding]:
    """Licences and certifications expiring within the warning window, or expired."""
    today = sight.now.date()
    horizon = (today + timedelta(days=sight.settings.credential_warning_days)).isoformat()
    docs = await sight.watching(
        watch.CREDENTIALS, {"revoked": False, "expires_on": {"$lte": horizon}}
    )
    people = await sight.people(docs)
    found: list[Finding] = []
    for doc in docs:
        person = people.get((doc["tenant"], doc["employee_id"]))
        employed = bool((person or {}).get("employed", True))
        found += rules.credential(
            {**doc, "employed": employed},
            today,
            sight.settings.credential_warning_days,
            _site_of(person),
        )
    return found


async def training_overdue(sight: Sight) -> Iterable[Finding]:
    """Training assignments past their due date and not completed."""
    today = sight.now.date()
    docs = await sight.watching(
        watch.TRAINING, {"completed": False, "due_on": {"$lt": today.isoformat()}}
    )
    people = await sight.people(docs)
    found: list[Finding] = []
    for doc in docs:
        person = people.get((doc["tenant"], doc["employee_id"]))
        employed = bool((person or {}).get("employed", True))
        found += rules.training({**doc, "employed": employed}, today, _site_of(person))
    return found


async def ledger_unverified(sight: Sight) -> Iterable[Finding]:
    """Each tenant's audit ledger, verified as an auditor would (chain, anchors, stores).
    Each round is also told to the metrics, for the operations team's alert: how many
    tenants' ledgers did not verify (never which), and when the round ended."""
    found: list[Finding] = []
    unverified = 0
    for doc in await sight.watching(watch.TENANTS, {}):
        tenant = str(doc["tenant"])
        report = await sight.ledger.verify(tenant)
        verified = bool(report.get("verified", True))
        outcome = "verified" if verified else "unverified"
        sight.metrics.count("medoffice_audit_ledger_verifications_total", outcome=outcome)
        unverified += not verified
        found += rules.ledger(tenant, report)
    sight.metrics.set("medoffice_audit_ledger_unverified_tenants", unverified)
    sight.metrics.set("medoffice_audit_ledger_last_check_timestamp_seconds", sight.now.timestamp())
    return found


async def policies_unacknowledged(sight: Sight) -> Iterable[Finding]:
    """Staff who owe a policy's acknowledgement past its due date (the overdue lists)."""
    found: list[Finding] = []
    for tenant in await sight.tenants():
        rows = await sight.policies.overdue(tenant, None)
        people = await sight.people(
            {"tenant": tenant, "employee_id": r["employee_id"]} for r in rows
        )
        for row in rows:
            site = _site_of(people.get((tenant, str(row["employee_id"]))))
            found += rules.policy_unacknowledged(tenant, row, site)
    return found


async def incident_deadlines(sight: Sight) -> Iterable[Finding]:
    """Incidents' steps due within the warning window, or past due (the deadlines list)."""
    found: list[Finding] = []
    for tenant in await sight.tenants():
        for row in await sight.incidents.due(tenant, sight.settings.incident_warning_days, None):
            found += rules.incident_deadline(tenant, row)
    return found


# ------------------------------------------------------------------------------- PHI reads

# A patient's record read at the front desk or the clinic (scheduling) or in billing.
READ_TYPES = frozenset({PatientRecordAccessed.type_name(), BillingRecordAccessed.type_name()})


async def reads_volume(sight: Sight, envelope: Envelope) -> Iterable[Finding]:
    """One reader, many patients within an hour. Each patient a reader opened in an hour is
    kept once (a second read of them, or a redelivery, rewrites the same document); those of
    the reader's hour are then counted (an index count, not a load of every read), so two
    processes taking reads of one hour apart still count them all: whichever writes the read
    that crosses the threshold sees it."""
    reader, patient = envelope.actor, envelope.data.get("patient_id")
    if not reader or not isinstance(patient, str):
        return []
    hour = rules.hour_of(_accessed_at(envelope))
    doc = {"tenant": envelope.tenant, "reader": reader, "hour": hour, "patient_id": patient}
    doc_id = f"{envelope.tenant}:{hour}:{reader}:{patient}"
    await sight.documents.write(READS, [Write(doc_id, doc)])
    patients = await sight.documents.count(
        READS, {"tenant": envelope.tenant, "reader": reader, "hour": hour}
    )
    return rules.reads_volume(
        envelope.tenant, reader, hour, patients, sight.settings.phi_reads_per_hour_threshold
    )


async def read_without_visit(sight: Sight, envelope: Envelope) -> Iterable[Finding]:
    """A reader (an employee compliance knows of) opening a patient not seen at their sites.
    A reader who is no employee (a system, an integration) has no sites to compare."""
    reader, patient = envelope.actor, envelope.data.get("patient_id")
    if not reader or not isinstance(patient, str):
        return []
    person = await sight.watched(watch.PEOPLE, envelope.tenant, reader)
    sites = list((person or {}).get("site_ids") or [])
    if not sites:
        return []
    visited = [
        s
        for s in sites
        if await sight.watched(watch.VISITS, envelope.tenant, patient, s) is not None
    ]
    day = _accessed_at(envelope).date().isoformat()
    return rules.read_without_visit(envelope.tenant, reader, patient, sites, visited, day)


async def read_after_hours(sight: Sight, envelope: Envelope) -> Iterable[Finding]:
    """A read while every site of the reader (an employee), else of the tenant, is closed."""
    reader, patient = envelope.actor, envelope.data.get("patient_id")
    if not reader or not isinstance(patient, str):
        return []
    person = await sight.watched(watch.PEOPLE, envelope.tenant, reader)
    site_ids = list((person or {}).get("site_ids") or [])
    if site_ids:
        sites = [
            s
            for s in [await sight.watched(watch.SITES, envelope.tenant, i) for i in site_ids]
            if s is not None
        ]
    else:
        sites = await sight.watching(watch.SITES, {"tenant": envelope.tenant})
    at = _accessed_at(envelope)
    local = [(str(s["site_id"]), _in_zone(at, s["time_zone"]), s["opening_hours"]) for s in sites]
    return rules.read_after_hours(envelope.tenant, reader, patient, at, local)


def _in_zone(moment: datetime, time_zone: str) -> datetime:
    """The moment in a site's zone; a zone this machine cannot read, in UTC (a site's zone
    was checked when it was registered)."""
    try:
        return moment.astimezone(ZoneInfo(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(UTC)


def _accessed_at(envelope: Envelope) -> datetime:
    value = envelope.data.get("accessed_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else envelope.time


# ------------------------------------------------------------------------------- registry

MONITORS: tuple[Monitor, ...] = (
    Timed("credentials", credentials_due, lambda s: s.monitor_timer_seconds),
    Timed("training", training_overdue, lambda s: s.monitor_timer_seconds),
    Timed("ledger", ledger_unverified, lambda s: s.ledger_monitor_seconds),
    Timed("policies", policies_unacknowledged, lambda s: s.monitor_timer_seconds),
    Timed("incidents", incident_deadlines, lambda s: s.monitor_timer_seconds),
    OnEvent("phi_reads_volume", READ_TYPES, reads_volume),
    OnEvent("phi_read_no_visit", READ_TYPES, read_without_visit),
    OnEvent("phi_read_after_hours", READ_TYPES, read_after_hours),
)


class Monitors:
    """Runs the registered monitors and raises what they find."""

    def __init__(
        self,
        alerts: Alerts,
        read_models: ReadModels,
        ledger: AuditLedger,
        policies: Policies,
        incidents: Incidents,
        settings: Settings,
        metrics: Metrics,
        monitors: Sequence[Monitor] = MONITORS,
    ) -> None:
        self._alerts = alerts
        self._read_models = read_models
        self._ledger = ledger
        self._policies = policies
        self._incidents = incidents
        self._settings = settings
        self._metrics = metrics
        self.monitors = tuple(monitors)

    def sight(self) -> Sight:
        return Sight(
            self._read_models,
            self._read_models.store,
            self._ledger,
            self._policies,
            self._incidents,
            self._settings,
            self._alerts.now(),
            self._metrics,
        )

    async def _raise(self, findings: Iterable[Finding]) -> int:
        raised = 0
        for finding in findings:
            raised += await self._alerts.raise_alert(finding)
        return raised

    async def run(self, monitor: Timed) -> int:
        """One round of a timed monitor; the number of alerts it raised (0 when all it found
        was raised before)."""
        return await self._raise(await monitor.find(self.sight()))

    async def run_timed(self) -> int:
        """One round of every timed monitor (what the timers do, each on its own period)."""
        return sum([await self.run(m) for m in self.monitors if isinstance(m, Timed)])

    async def on_event(self, envelope: Envelope) -> int:
        raised = 0
        sight = self.sight()
        for monitor in self.monitors:
            if isinstance(monitor, OnEvent) and envelope.type in monitor.types:
                raised += await self._raise(await monitor.find(sight, envelope))
        return raised

    def timers(self) -> list[Timer]:
        return [
            MonitorTimer(self, m, m.every(self._settings))
            for m in self.monitors
            if isinstance(m, Timed)
        ]

    def reaction(self) -> MonitorReaction:
        return MonitorReaction(self)


class MonitorTimer(Timer):
    """A timed monitor's timer. Its findings are raised once each (the alert's stream decides),
    so rounds repeated after a restart, or run by several processes, raise nothing twice."""

    def __init__(self, monitors: Monitors, monitor: Timed, every: float) -> None:
        super().__init__(every)
        self._monitors = monitors
        self._monitor = monitor
        self.name = f"compliance.monitor.{monitor.name}"

    async def fire_due(self) -> int:
        return await self._monitors.run(self._monitor)


class MonitorReaction:
    """Feeds the event monitors, in consumer group `reactor.compliance.monitors`."""

    name = "compliance.monitors"

    def __init__(self, monitors: Monitors) -> None:
        self._monitors = monitors
        self.contexts = tuple(
            sorted({c for m in monitors.monitors if isinstance(m, OnEvent) for c in m.contexts})
        )

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        await self._monitors.on_event(envelope)
