"""What the monitors watch: the facts of staffing and scheduling they decide from.

Read from the producers' events through their contracts (`services/<ctx>/contracts.py`, the
only modules of theirs compliance imports): people and their sites, credentials and their
expiry, training assignments and their due dates, sites and their opening hours, and which
sites each patient has visits at. The timed monitors ask it what is due; the PHI-access
monitors ask it whom a reader works for and where a patient is seen.
"""

from __future__ import annotations

from typing import Any

from services.scheduling.contracts import CONTRACT as SCHEDULING
from services.scheduling.contracts import AppointmentBooked, SiteRegistered
from services.staffing.contracts import CONTRACT as STAFFING
from services.staffing.contracts import (
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    TrainingAssigned,
    TrainingCompleted,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "compliance.monitor_watch"
PEOPLE = "watch_people"
CREDENTIALS = "watch_credentials"
TRAINING = "watch_training"
SITES = "watch_sites"
VISITS = "watch_visits"
TENANTS = "watch_tenants"

REGISTRIES = {"staffing": STAFFING.registry, "scheduling": SCHEDULING.registry}
WATCHED = frozenset(
    cls.type_name()
    for cls in (
        EmployeeHired,
        JobChanged,
        EmployeeTerminated,
        CredentialRecorded,
        CredentialRenewed,
        CredentialRevoked,
        CredentialVerified,
        TrainingAssigned,
        TrainingCompleted,
        SiteRegistered,
        AppointmentBooked,
    )
)


def key(tenant: str, *parts: str) -> str:
    return ":".join((tenant, *parts))


def decoded(envelope: Envelope) -> DomainEvent | None:
    """The producer's event, if it is one the monitors watch (decoded by its own registry,
    upcasters included)."""
    if envelope.type not in WATCHED:
        return None
    return REGISTRIES[envelope.context].decode(envelope)


class MonitorWatchProjection:
    name = PROJECTION
    contexts = ("scheduling", "staffing")
    collections = (PEOPLE, CREDENTIALS, TRAINING, SITES, VISITS, TENANTS)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        fact = decoded(envelope)
        if fact is None:
            return
        tenant = envelope.tenant

        async def put(collection: str, doc_id: str, fields: dict[str, Any]) -> None:
            def change(doc: Document | None) -> Document:
                return {**(doc or {"tenant": tenant}), **fields}

            await view.change(collection, key(tenant, doc_id), envelope, change)

        match fact:
            case EmployeeHired() | JobChanged():
                await put(
                    PEOPLE,
                    fact.employee_id,
                    {
                        "employee_id": fact.employee_id,
                        "site_ids": list(fact.site_ids),
                        "employed": True,
                    },
                )
            case EmployeeTerminated():
                fields = {"employee_id": fact.employee_id, "employed": False}
                await put(PEOPLE, fact.employee_id, fields)
            case CredentialRecorded():
                await put(
                    CREDENTIALS,
                    fact.credential_id,
                    {
                        "credential_id": fact.credential_id,
                        "employee_id": fact.employee_id,
                        "kind": fact.kind,
                        "expires_on": _day(fact.expires_on),
                        "revoked": False,
                    },
                )
            case CredentialRenewed():
                await put(CREDENTIALS, fact.credential_id, {"expires_on": _day(fact.expires_on)})
            case CredentialRevoked():
                await put(CREDENTIALS, fact.credential_id, {"revoked": True})
            case CredentialVerified():
                if fact.result == "failed":  # invalid from then on: staffing's matter, not expiry
                    await put(CREDENTIALS, fact.credential_id, {"revoked": True})
            case TrainingAssigned():
                await put(
                    TRAINING,
                    fact.assignment_id,
                    {
                        "assignment_id": fact.assignment_id,
                        "employee_id": fact.employee_id,
                        "course_name": fact.course_name,
                        "due_on": fact.due_on.isoformat(),
                        "completed": False,
                    },
                )
            case TrainingCompleted():
                await put(TRAINING, fact.assignment_id, {"completed": True})
            case SiteRegistered():
                hours = [h.model_dump(mode="json") for h in fact.opening_hours]
                await put(
                    SITES,
                    fact.site_id,
                    {"site_id": fact.site_id, "time_zone": fact.time_zone, "opening_hours": hours},
                )
                # The tenants the ledger monitor verifies: every one with a site.
                await put(TENANTS, "tenant", {})
            case AppointmentBooked():
                await put(
                    VISITS,
                    f"{fact.patient_id}:{fact.site_id}",
                    {"patient_id": fact.patient_id, "site_id": fact.site_id},
                )


def _day(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())
