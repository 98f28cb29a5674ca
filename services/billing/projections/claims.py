"""The claims read model (`billing.claims`): one document per claim (its status, problems,
rejection reasons, adjudication with its CARC/RARC codes, file, replacement) and one per claim
file (its metadata, never its bytes). The work queues (claims not ready, rejected, denials,
unanswered) are queries over it (application/claims.py, api/claims.py). No PHI is kept here:
patient ids only.
"""

from __future__ import annotations

from typing import get_args

from services.billing.domain.events import (
    ClaimAccepted,
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    ClaimAppealed,
    ClaimBatchAcknowledged,
    ClaimBatchCreated,
    ClaimBatchSent,
    ClaimCreated,
    ClaimNotReady,
    ClaimReady,
    ClaimRejected,
    ClaimReplaced,
    ClaimSubmitted,
    ClaimWrittenOff,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "billing.claims"
CLAIMS = "claims"
FILES = "claim_files"

_Claim = (
    ClaimCreated
    | ClaimNotReady
    | ClaimReady
    | ClaimSubmitted
    | ClaimAccepted
    | ClaimRejected
    | ClaimAdjudicated
    | ClaimAdjudicationReversed
    | ClaimAppealed
    | ClaimWrittenOff
    | ClaimReplaced
)
_File = ClaimBatchCreated | ClaimBatchSent | ClaimBatchAcknowledged


def claim_doc_id(tenant: str, claim_id: str) -> str:
    return f"{tenant}:{claim_id}"


def file_doc_id(tenant: str, batch_id: str) -> str:
    return f"{tenant}:{batch_id}"


def _reasons(event: ClaimAdjudicated) -> tuple[list[str], list[str]]:
    """The CARC codes (as GROUP-REASON) and RARC codes of an adjudication, claim and lines."""
    carc = [f"{a.group}-{a.reason}" for a in event.adjustments]
    rarc: list[str] = []
    for line in event.lines:
        carc.extend(f"{a.group}-{a.reason}" for a in line.adjustments)
        rarc.extend(line.remarks)
    return sorted(set(carc)), sorted(set(rarc))


class ClaimsProjection:
    name = PROJECTION
    contexts = ("billing",)
    collections = (CLAIMS, FILES)
    handles: tuple[type[DomainEvent], ...] = (*get_args(_Claim), *get_args(_File))

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, _Claim):
            return [(CLAIMS, claim_doc_id(envelope.tenant, event.claim_id))]
        if isinstance(event, _File):
            return [(FILES, file_doc_id(envelope.tenant, event.batch_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant, seen = envelope.tenant, event
        if isinstance(seen, _File):

            def batch(doc: Document | None) -> Document | None:
                match seen:
                    case ClaimBatchCreated():
                        return {
                            "tenant": tenant,
                            "batch_id": seen.batch_id,
                            "payer_id": seen.payer_id,
                            "interchange_control_number": seen.interchange_control_number,
                            "group_control_number": seen.group_control_number,
                            "claim_ids": list(seen.claim_ids),
                            "usage": seen.usage,
                            "created_at": seen.created_at.isoformat(),
                            "digest": seen.digest,
                            "status": "created",
                            "file_name": None,
                            "sent_at": None,
                            "acknowledgement": None,
                        }
                    case ClaimBatchSent() if doc is not None:
                        doc.update(
                            status="sent",
                            file_name=seen.file_name,
                            sent_at=seen.sent_at.isoformat(),
                        )
                    case ClaimBatchAcknowledged() if doc is not None:
                        doc.update(
                            status="acknowledged",
                            acknowledgement={
                                "code": seen.code,
                                "errors": list(seen.errors),
                                "at": seen.acknowledged_at.isoformat(),
                            },
                        )
                return doc

            await view.change(FILES, file_doc_id(tenant, seen.batch_id), envelope, batch)
            return
        if not isinstance(seen, _Claim):
            return

        def change(doc: Document | None) -> Document | None:
            if isinstance(seen, ClaimCreated):
                return {
                    "tenant": tenant,
                    "stream": envelope.stream,
                    "claim_id": seen.claim_id,
                    "patient_id": seen.patient_id,
                    "payer_id": seen.payer_id,
                    "coverage_id": seen.coverage_id,
                    "priority": seen.priority,
                    "site_id": seen.site_id,
                    "provider_id": seen.provider_id,
                    "charge_ids": list(seen.charge_ids),
                    "total_cents": seen.total_cents,
                    "frequency": seen.frequency,
                    "replaces": seen.replaces,
                    "primary_claim_id": seen.primary_claim_id,
                    "created_at": seen.created_at.isoformat(),
                    "status": "draft",
                    "problems": [],
                    "reasons": [],
                    "batch_id": None,
                    "submitted_at": None,
                    "answered_at": None,
                    "adjudication": None,
                    "postings": [],  # adjudications standing (not reversed), oldest first
                    "paid_cents": 0,  # what the payer paid, net of reversals
                    "carc": [],
                    "rarc": [],
                    "replaced_by": None,
                    "updated_at": seen.created_at.isoformat(),
                }
            if doc is None:  # a claim's events arrive in order: never the case
                return None
            match seen:
                case ClaimNotReady():
                    if doc.get("status") == "ready":  # its checks failed again: back to draft
                        doc["status"] = "draft"
                    doc.update(problems=list(seen.problems), updated_at=seen.checked_at.isoformat())
                case ClaimReady():
                    doc.update(status="ready", problems=[], updated_at=seen.ready_at.isoformat())
                case ClaimSubmitted():
                    at = seen.submitted_at.isoformat()
                    doc.update(status="submitted", batch_id=seen.batch_id, submitted_at=at)
                    doc.update(reasons=[], answered_at=None, updated_at=at)
                case ClaimAccepted():
                    at = seen.accepted_at.isoformat()
                    doc.update(status="accepted", answered_at=at, updated_at=at)
                case ClaimRejected():
                    at = seen.rejected_at.isoformat()
                    doc.update(status="rejected", reasons=list(seen.reasons), answered_at=at)
                    doc["updated_at"] = at
                case ClaimAdjudicated():
                    carc, rarc = _reasons(seen)
                    adjudication = {
                        "posting_id": seen.posting_id,
                        "remittance_id": seen.remittance_id,
                        "outcome": seen.outcome,
                        "paid_cents": seen.paid_cents,
                        "patient_responsibility_cents": seen.patient_responsibility_cents,
                        "payer_claim_control_number": seen.payer_claim_control_number,
                        "adjudicated_on": seen.adjudicated_on.isoformat(),
                        "adjustments": [a.model_dump(mode="json") for a in seen.adjustments],
                        "lines": [line.model_dump(mode="json") for line in seen.lines],
                        "carc": carc,
                        "rarc": rarc,
                    }
                    postings = [*doc.get("postings", []), adjudication]
                    doc.update(
                        status=seen.outcome,
                        carc=carc,
                        rarc=rarc,
                        answered_at=doc.get("answered_at") or seen.recorded_at.isoformat(),
                        updated_at=seen.recorded_at.isoformat(),
                        adjudication=adjudication,
                        postings=postings,
                        paid_cents=sum(int(p["paid_cents"]) for p in postings),
                    )
                case ClaimAdjudicationReversed():
                    postings = [
                        p for p in doc.get("postings", []) if p.get("posting_id") != seen.reverses
                    ]
                    last = postings[-1] if postings else None
                    if doc.get("replaced_by") is None:
                        doc["status"] = last["outcome"] if last else "accepted"
                    doc.update(
                        adjudication=last,
                        postings=postings,
                        paid_cents=sum(int(p["paid_cents"]) for p in postings),
                        carc=last["carc"] if last else [],
                        rarc=last["rarc"] if last else [],
                        updated_at=seen.recorded_at.isoformat(),
                    )
                case ClaimAppealed():
                    doc.update(status="appealed", updated_at=seen.appealed_at.isoformat())
                case ClaimWrittenOff():
                    doc.update(
                        status="written_off",
                        written_off_cents=seen.amount_cents,
                        updated_at=seen.written_off_at.isoformat(),
                    )
                case ClaimReplaced():
                    doc.update(
                        status="voided" if seen.frequency == "8" else "resubmitted",
                        replaced_by=seen.by_claim_id,
                        updated_at=seen.replaced_at.isoformat(),
                    )
            return doc

        await view.change(CLAIMS, claim_doc_id(tenant, seen.claim_id), envelope, change)
