"""Review status per cycle: each cycle as a document, and each review as one (its status, the
self-assessment, the manager's ratings and goals, the sign-offs and the acknowledgement). A
cycle's counts per step are counted from its reviews when read.

A review's document is named by its cycle and employee, as its stream is.
"""

from __future__ import annotations

from typing import get_args

from services.staffing.domain.events import (
    ManagerReviewSubmitted,
    ReviewAcknowledged,
    ReviewCycleOpened,
    ReviewSignedOff,
    ReviewStarted,
    SelfAssessmentSubmitted,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "staffing.reviews"
CYCLES = "review_cycles"
REVIEWS = "reviews"

_Review = (
    ReviewStarted
    | SelfAssessmentSubmitted
    | ManagerReviewSubmitted
    | ReviewSignedOff
    | ReviewAcknowledged
)


def cycle_id(tenant: str, cycle: str) -> str:
    return f"{tenant}:{cycle}"


def review_doc_id(tenant: str, cycle: str, employee_id: str) -> str:
    return f"{tenant}:{cycle}:{employee_id}"


class ReviewsProjection:
    name = PROJECTION
    contexts = ("staffing",)
    collections = (CYCLES, REVIEWS)
    handles: tuple[type[DomainEvent], ...] = (ReviewCycleOpened, *get_args(_Review))

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, ReviewCycleOpened):
            return [(CYCLES, cycle_id(envelope.tenant, event.cycle_id))]
        if isinstance(event, _Review):
            return [(REVIEWS, review_doc_id(envelope.tenant, event.cycle_id, event.employee_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        if isinstance(event, ReviewCycleOpened):
            fields = event.model_dump(mode="json")

            def opened(_: Document | None) -> Document:
                return {"tenant": tenant, "stream": envelope.stream, **fields}

            await view.change(CYCLES, cycle_id(tenant, event.cycle_id), envelope, opened)
            return
        if not isinstance(event, _Review):
            return
        step = event

        def change(doc: Document | None) -> Document | None:
            if isinstance(step, ReviewStarted):
                return {
                    "tenant": tenant,
                    "stream": envelope.stream,
                    **step.model_dump(mode="json"),
                    "status": "started",
                    "self_assessment": None,
                    "manager_review": None,
                    "sign_offs": {},
                    "acknowledgement": None,
                }
            if doc is None:  # a review's events arrive in order: never the case
                return None
            match step:
                case SelfAssessmentSubmitted():
                    doc["status"] = "self_assessed"
                    doc["self_assessment"] = {
                        "summary": step.summary,
                        "submitted_at": step.submitted_at.isoformat(),
                    }
                case ManagerReviewSubmitted():
                    doc["status"] = "manager_reviewed"
                    doc["manager_review"] = {
                        "ratings": {r.competency: r.rating for r in step.ratings},
                        "goals": list(step.goals),
                        "summary": step.summary,
                        "submitted_at": step.submitted_at.isoformat(),
                    }
                case ReviewSignedOff():
                    doc["sign_offs"][step.by] = {
                        "signed_by": step.signed_by,
                        "signed_at": step.signed_at.isoformat(),
                    }
                    if set(doc["sign_offs"]) == {"manager", "employee"}:
                        doc["status"] = "signed_off"
                case ReviewAcknowledged():
                    doc["status"] = "acknowledged"
                    doc["acknowledgement"] = {
                        "comment": step.comment,
                        "acknowledged_at": step.acknowledged_at.isoformat(),
                    }
            return doc

        await view.change(
            REVIEWS, review_doc_id(tenant, event.cycle_id, event.employee_id), envelope, change
        )
