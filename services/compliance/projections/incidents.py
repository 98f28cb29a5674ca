"""Incidents as the officer reads them: one document per incident, with each step's facts and
what it still owes by when (`deadlines`, soonest first, and `next_due_on`).

The deadlines are the domain's own arithmetic (`domain/incidents.py`): the projection folds the
incident's events as the decider does, from the facts the document keeps, and stores the
result. Compliance's events reach it as they arrived (`AsReceived`), so it decodes its own
types with their registry. Whether a deadline is overdue or due soon depends on today: the
queries decide that (`application/incidents.py`), never the projection.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.compliance.domain.incidents import (
    EVENTS,
    Assessment,
    BreachNotificationSent,
    Incident,
    IncidentClosed,
    IncidentReported,
    IncidentRiskAssessed,
    SafetyIncidentInvestigated,
    deadlines,
    evolve,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope, EventRegistry
from shared.projections import View

PROJECTION = "compliance.incidents"
INCIDENTS = "incidents"

_registry = EventRegistry(EVENTS)


def incident_doc_id(tenant: str, incident_id: str) -> str:
    return f"{tenant}:{incident_id}"


def _incident(doc: Document) -> Incident:
    """The decider's state, from the facts the document keeps."""
    assessment = doc["assessment"]
    return Incident(
        incident_id=doc["incident_id"],
        kind=doc["kind"],
        discovered_on=date.fromisoformat(doc["discovered_on"]),
        assessment=(
            Assessment(assessment["breach"], assessment["patients_affected"])
            if assessment
            else None
        ),
        notified=frozenset(n["recipient"] for n in doc["notifications"]),
        investigated=doc["investigation"] is not None,
        closed=doc["status"] == "closed",
    )


def _facts(event: DomainEvent, doc: Document | None, envelope: Envelope) -> Document | None:
    match event:
        case IncidentReported():
            return {
                "tenant": envelope.tenant,
                "incident_id": event.incident_id,
                "kind": event.kind,
                "site_id": event.site_id,
                "title": event.title,
                "description": event.description,
                "occurred_on": event.occurred_on.isoformat() if event.occurred_on else None,
                "discovered_on": event.discovered_on.isoformat(),
                "reported_at": event.reported_at.isoformat(),
                "reported_by": envelope.actor,
                "case_id": event.case_id,
                "status": "open",
                "assessment": None,
                "notifications": [],
                "investigation": None,
                "closed_on": None,
                "resolution": None,
            }
    if doc is None:
        return None  # the stream's first event is the report: never happens
    match event:
        case IncidentRiskAssessed():
            doc["assessment"] = {
                "assessed_on": event.assessed_on.isoformat(),
                "breach": event.breach,
                "risk": event.risk,
                "patients_affected": event.patients_affected,
                "summary": event.summary,
            }
        case BreachNotificationSent():
            doc["notifications"] = [
                *doc["notifications"],
                {
                    "recipient": event.recipient,
                    "sent_on": event.sent_on.isoformat(),
                    "recipients_count": event.recipients_count,
                },
            ]
        case SafetyIncidentInvestigated():
            doc["investigation"] = {
                "investigated_on": event.investigated_on.isoformat(),
                "harm": event.harm,
                "root_cause": event.root_cause,
                "actions": list(event.actions),
            }
        case IncidentClosed():
            doc.update(status="closed", closed_on=event.closed_on.isoformat())
            doc["resolution"] = event.resolution
    return doc


class IncidentsProjection:
    name = PROJECTION
    contexts = ("compliance",)
    collections = (INCIDENTS,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        """`event` arrives undecoded (`shared.events.AsReceived`): decode compliance's own."""
        if envelope.context != "compliance" or not _registry.knows(envelope.type):
            return
        decoded = _registry.decode(envelope)
        incident_id = envelope.data.get("incident_id")
        if not isinstance(incident_id, str):
            return

        def change(doc: Document | None) -> Document | None:
            state = evolve(_incident(doc) if doc is not None else Incident(), decoded)
            doc = _facts(decoded, doc, envelope)
            if doc is None:
                return None
            owed: list[dict[str, Any]] = [
                {"task": d.task, "due_on": d.due_on.isoformat()} for d in deadlines(state)
            ]
            doc["deadlines"] = owed
            doc["next_due_on"] = min((d["due_on"] for d in owed), default=None)
            return doc

        await view.change(
            INCIDENTS, incident_doc_id(envelope.tenant, incident_id), envelope, change
        )
