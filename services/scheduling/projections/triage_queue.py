"""Same-day triage entries: one document per entry, with its site, local date and status.

A site's queue for a day is its waiting entries, served by urgency, then arrival. Each entry
records its home stream, so closing one finds the stream without knowing its day. The chief
complaint stays sealed here; the API opens it.
"""

from __future__ import annotations

from typing import get_args

from services.scheduling.domain.events import (
    PatientRetriaged,
    PatientTriaged,
    TriagedPatientLeft,
    TriagedPatientSeen,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.triage_queue"
TRIAGE = "triage_entries"
PHI_FIELDS = ("chief_complaint",)

_Triage = PatientTriaged | PatientRetriaged | TriagedPatientSeen | TriagedPatientLeft


def entry_id(tenant: str, triage_id: str) -> str:
    return f"{tenant}:{triage_id}"


class TriageQueueProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (TRIAGE,)
    handles: tuple[type[DomainEvent], ...] = get_args(_Triage)

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, _Triage):
            return [(TRIAGE, entry_id(envelope.tenant, event.triage_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, _Triage):
            return
        doc_id = entry_id(envelope.tenant, event.triage_id)
        if isinstance(event, PatientTriaged):
            fields = event.model_dump(mode="json")
            # The triage-day stream id ends with the site's local date it covers.
            day = envelope.stream.rsplit(":", 1)[1]

            def triage(_: Document | None) -> Document:
                return {
                    "tenant": envelope.tenant,
                    "stream": envelope.stream,
                    "date": day,
                    "status": "waiting",
                    **fields,
                }

            await view.change(TRIAGE, doc_id, envelope, triage)
            return
        changed = event

        def change(doc: Document | None) -> Document | None:
            if doc is None:
                return None
            match changed:
                case PatientRetriaged():
                    doc.update(
                        urgency=changed.urgency, retriaged_at=changed.retriaged_at.isoformat()
                    )
                case TriagedPatientSeen():
                    doc.update(status="seen", closed_at=changed.seen_at.isoformat())
                case TriagedPatientLeft():
                    doc.update(status="left", closed_at=changed.left_at.isoformat())
            return doc

        await view.change(TRIAGE, doc_id, envelope, change)
