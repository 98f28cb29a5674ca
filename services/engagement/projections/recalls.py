"""Each patient's recall as the office lists it: one document per patient, open (due on
`due_on`, sent or not) or closed by a booking. The recall timer reads the open ones due and not
sent; the recall list of a site is its open ones due by today (the query decides "today").
Replay-safe: each change is keyed by the recall's stream version."""

from __future__ import annotations

from services.engagement.domain.events import PatientDueForRecall, RecallClosed, RecallSent
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "engagement.recalls"
RECALLS = "engagement_recalls"


def recall_doc_id(tenant: str, patient_id: str) -> str:
    return f"{tenant}:{patient_id}"


class RecallsProjection:
    name = PROJECTION
    contexts = ("engagement",)
    collections = (RECALLS,)
    handles: tuple[type[DomainEvent], ...] = (PatientDueForRecall, RecallSent, RecallClosed)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, PatientDueForRecall | RecallSent | RecallClosed):
            return
        tenant, seen = envelope.tenant, event

        def change(doc: Document | None) -> Document | None:
            if isinstance(seen, PatientDueForRecall):
                return {
                    "tenant": tenant,
                    "patient_id": seen.patient_id,
                    "site_id": seen.site_id,
                    "due_on": seen.due_on.isoformat(),
                    "last_visit_on": seen.last_visit_on.isoformat(),
                    "visit_type_id": seen.visit_type_id,
                    "interval_months": seen.interval_months,
                    "status": "open",
                    "sent": False,
                    "message_id": None,
                }
            if doc is None:
                return None  # nothing before its opening: a recall's stream is read in order
            if isinstance(seen, RecallSent):
                doc.update(sent=True, message_id=seen.message_id)
            else:
                doc.update(status="closed", closed_on=seen.closed_on.isoformat())
            return doc

        await view.change(RECALLS, recall_doc_id(tenant, event.patient_id), envelope, change)
