"""What became of each patient's answer through a signed link, for the patient's client to
ask (`GET /engagement/links/{tenant}/{token}`): answered (engagement's `PatientAnsweredLink`),
then carried out or refused by scheduling (`PatientLinkAnswerApplied`,
`PatientLinkAnswerRefused`, on scheduling's topic). The two topics arrive in any order: each
event sets its own fields. Replay-safe: each event sets, never adds."""

from __future__ import annotations

from services.engagement.domain.events import PatientAnsweredLink
from services.scheduling.contracts import PatientLinkAnswerApplied, PatientLinkAnswerRefused
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "engagement.link_answers"
ANSWERS = "engagement_link_answers"
OUTCOMES = {"confirm": "confirmed", "cancel": "cancelled"}


def answer_doc_id(tenant: str, answer_id: str) -> str:
    return f"{tenant}:{answer_id}"


class LinkAnswersProjection:
    name = PROJECTION
    contexts = ("engagement", "scheduling")
    collections = (ANSWERS,)
    handles: tuple[type[DomainEvent], ...] = (
        PatientAnsweredLink,
        PatientLinkAnswerApplied,
        PatientLinkAnswerRefused,
    )

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        match event:
            case PatientAnsweredLink():
                answer = event.answer_id
                fields: dict[str, str | None] = {
                    "appointment_id": event.appointment_id,
                    "action": event.action,
                    "answered_at": event.answered_at.isoformat(),
                }
            case PatientLinkAnswerApplied():
                answer = event.answer_id
                fields = {"outcome": OUTCOMES.get(event.action, event.action), "reason": None}
            case PatientLinkAnswerRefused():
                answer = event.answer_id
                fields = {"outcome": "refused", "reason": event.reason}
            case _:
                return
        tenant = envelope.tenant

        def change(doc: Document | None) -> Document:
            doc = doc or {"tenant": tenant, "answer_id": answer}
            doc.update(fields)
            return doc

        await view.change(ANSWERS, answer_doc_id(tenant, answer), envelope, change)
