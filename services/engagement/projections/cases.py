"""Feedback cases as the office lists them: one document per case, its words left out (the
summary and the resolution are sealed PHI, read from the event store one case at a time).
`position` (due date, then case id) is the list's order and its paging key; whether a case is
overdue depends on today, so the query decides it, never the projection. Replay-safe: each
change is keyed by the case's stream version."""

from __future__ import annotations

from datetime import date

from services.engagement.domain.events import (
    FeedbackCaseAssigned,
    FeedbackCaseIncidentLinked,
    FeedbackCaseOpened,
    FeedbackCaseResolved,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "engagement.cases"
CASES = "engagement_cases"


HANDLED = (
    FeedbackCaseOpened,
    FeedbackCaseAssigned,
    FeedbackCaseResolved,
    FeedbackCaseIncidentLinked,
)


def case_doc_id(tenant: str, case_id: str) -> str:
    return f"{tenant}:{case_id}"


def position(due_on: date | str, case_id: str) -> str:
    """Where a case stands in its site's list: by due date, then id."""
    due = due_on if isinstance(due_on, str) else due_on.isoformat()
    return f"{due}|{case_id}"


def _opened(tenant: str, event: FeedbackCaseOpened) -> Document:
    return {
        "tenant": tenant,
        "case_id": event.case_id,
        "patient_id": event.patient_id,
        "site_id": event.site_id,
        "kind": event.kind,
        "source": event.source,
        "opened_at": event.opened_at.isoformat(),
        "due_on": event.due_on.isoformat(),
        "position": position(event.due_on, event.case_id),
        "owner_id": None,
        "status": "open",
        "incident_id": event.incident_id,
        "appointment_id": event.appointment_id,
        "survey_id": event.survey_id,
        "provider_id": event.provider_id,
    }


class CasesProjection:
    name = PROJECTION
    contexts = ("engagement",)
    collections = (CASES,)
    handles: tuple[type[DomainEvent], ...] = HANDLED

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, HANDLED):
            return
        tenant = envelope.tenant
        seen = event

        def change(doc: Document | None) -> Document | None:
            if isinstance(seen, FeedbackCaseOpened):
                return _opened(tenant, seen)
            if doc is None:
                return None  # nothing before its opening: a case's stream is read in order
            if isinstance(seen, FeedbackCaseAssigned):
                doc.update(
                    owner_id=seen.owner_id,
                    due_on=seen.due_on.isoformat(),
                    position=position(seen.due_on, seen.case_id),
                )
            elif isinstance(seen, FeedbackCaseResolved):
                doc.update(status="resolved", resolved_at=seen.resolved_at.isoformat())
            else:
                doc["incident_id"] = seen.incident_id
            return doc

        await view.change(CASES, case_doc_id(tenant, event.case_id), envelope, change)
