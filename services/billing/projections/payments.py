"""The payments read model (`billing.payments`) behind the FHIR ExplanationOfBenefit and
PaymentReconciliation views: one document per adjudication of a claim (`adjudications`: a
paper EOB or a remittance's posting, cancelled once `ClaimAdjudicationReversed` takes it back)
and one per remittance (`remittances`: the payment, its claim payments in file order, and the
provider-level adjustments posted from it). No PHI: patient ids only, read through the claims
read model when a resource is built.
"""

from __future__ import annotations

from typing import get_args

from services.billing.domain.events import (
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    ProviderAdjustmentPosted,
    RemittanceClaimMatched,
    RemittanceClaimsReceived,
    RemittanceClaimUnmatched,
    RemittancePosted,
    RemittanceReceived,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "billing.payments"
ADJUDICATIONS = "adjudications"
REMITTANCES = "remittances"
UNMATCHED = "unmatched"  # the unmatched-remittance queue: one per claim payment unmatched

_Adjudication = ClaimAdjudicated | ClaimAdjudicationReversed
_Remittance = (
    RemittanceReceived
    | RemittanceClaimsReceived
    | RemittancePosted
    | ProviderAdjustmentPosted
    | RemittanceClaimUnmatched
    | RemittanceClaimMatched
)


def doc_id(tenant: str, own_id: str) -> str:
    return f"{tenant}:{own_id}"


def adjudication_id(event: ClaimAdjudicated, envelope: Envelope) -> str:
    """A posting's id; a paper EOB (no posting id) is known by its event's id."""
    return event.posting_id or envelope.id


def _remittance(tenant: str, remittance_id: str) -> Document:
    """A remittance's document before its `RemittanceReceived` is seen (a provider adjustment
    is on another stream and may come first)."""
    return {
        "tenant": tenant,
        "remittance_id": remittance_id,
        "received": False,
        "claims": [],
        "provider_adjustments": [],
        "posted_at": None,
        "pending": False,  # received, claims not all answered yet (the resume timer's query)
        "unmatched": 0,
    }


def unmatched_key(remittance_id: str, index: int) -> str:
    """The queue's order: remittance, then position (zero-padded: sorts as text)."""
    return f"{remittance_id}:{index:06d}"


class PaymentsProjection:
    name = PROJECTION
    contexts = ("billing",)
    collections = (ADJUDICATIONS, REMITTANCES, UNMATCHED)
    handles: tuple[type[DomainEvent], ...] = (*get_args(_Adjudication), *get_args(_Remittance))

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        match event:
            case ClaimAdjudicated():
                return [(ADJUDICATIONS, doc_id(envelope.tenant, adjudication_id(event, envelope)))]
            case ClaimAdjudicationReversed():
                return [(ADJUDICATIONS, doc_id(envelope.tenant, event.reverses))]
            case (
                RemittanceReceived()
                | RemittanceClaimsReceived()
                | RemittancePosted()
                | ProviderAdjustmentPosted()
            ):
                return [(REMITTANCES, doc_id(envelope.tenant, event.remittance_id))]
            case RemittanceClaimUnmatched() | RemittanceClaimMatched():
                own = unmatched_key(event.remittance_id, event.index)
                return [
                    (REMITTANCES, doc_id(envelope.tenant, event.remittance_id)),
                    (UNMATCHED, doc_id(envelope.tenant, own)),
                ]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant, seen = envelope.tenant, event
        if isinstance(seen, ClaimAdjudicated):
            own = adjudication_id(seen, envelope)

            def adjudicated(doc: Document | None) -> Document | None:
                return {
                    "tenant": tenant,
                    "adjudication_id": own,
                    "claim_id": seen.claim_id,
                    "status": "active",
                    "outcome": seen.outcome,
                    "paid_cents": seen.paid_cents,
                    "patient_responsibility_cents": seen.patient_responsibility_cents,
                    "payer_claim_control_number": seen.payer_claim_control_number,
                    "adjudicated_on": seen.adjudicated_on.isoformat(),
                    "recorded_at": seen.recorded_at.isoformat(),
                    "posting_id": seen.posting_id,
                    "remittance_id": seen.remittance_id,
                    "claim_status_code": seen.claim_status_code,
                    "remarks": list(seen.remarks),
                    "adjustments": [a.model_dump(mode="json") for a in seen.adjustments],
                    "lines": [line.model_dump(mode="json") for line in seen.lines],
                    "reversed_by": None,
                }

            await view.change(ADJUDICATIONS, doc_id(tenant, own), envelope, adjudicated)
        elif isinstance(seen, ClaimAdjudicationReversed):
            reversal = seen

            def reversed_(doc: Document | None) -> Document | None:
                if doc is None:  # the adjudication it names comes first on the claim's stream
                    return None
                doc.update(status="cancelled", reversed_by=reversal.posting_id)
                doc["reversed_on"] = reversal.reversed_on.isoformat()
                return doc

            await view.change(ADJUDICATIONS, doc_id(tenant, seen.reverses), envelope, reversed_)
        elif isinstance(seen, _Remittance):
            remittance = seen

            def change(doc: Document | None) -> Document | None:
                doc = doc or _remittance(tenant, remittance.remittance_id)
                match remittance:
                    case RemittanceReceived():
                        doc.update(
                            received=True,
                            payer_id=remittance.payer_id,
                            x12_payer_id=remittance.x12_payer_id,
                            payer_name=remittance.payer_name,
                            trace_number=remittance.trace_number,
                            handling_code=remittance.handling_code,
                            payment_method=remittance.payment_method,
                            payment_cents=remittance.payment_cents,
                            paid_on=remittance.paid_on.isoformat() if remittance.paid_on else None,
                            payee_npi=remittance.payee_npi,
                            claim_count=remittance.claim_count,
                            received_at=remittance.received_at.isoformat(),
                            received_on=remittance.received_at.date().isoformat(),
                            file_name=remittance.file_name,
                            source=remittance.source,
                            warnings=list(remittance.warnings),
                            pending=True,
                        )
                    case RemittanceClaimsReceived():
                        claims = list(doc["claims"])
                        held = {int(c["index"]) for c in claims}
                        for n, claim in enumerate(remittance.claims, remittance.first_index):
                            if n not in held:
                                claims.append({"index": n, **claim.model_dump(mode="json")})
                        doc["claims"] = sorted(claims, key=lambda c: int(c["index"]))
                        doc.update(pending=True, posted_at=None)
                    case RemittancePosted():
                        answered = remittance.posted + remittance.already_posted
                        answered += remittance.unmatched
                        doc.update(
                            posted_at=remittance.posted_at.isoformat(),
                            pending=answered < len(doc["claims"]),
                            posted=remittance.posted,
                            already_posted=remittance.already_posted,
                        )
                    case RemittanceClaimUnmatched():
                        for claim in doc["claims"]:
                            if int(claim["index"]) == remittance.index:
                                claim["unmatched"] = remittance.reason
                        doc["unmatched"] = sum(1 for c in doc["claims"] if "unmatched" in c)
                    case RemittanceClaimMatched():
                        for claim in doc["claims"]:
                            if int(claim["index"]) == remittance.index:
                                claim["matched_to"] = remittance.claim_id
                    case ProviderAdjustmentPosted():
                        adjustments = [
                            a
                            for a in doc["provider_adjustments"]
                            if a["adjustment_id"] != remittance.adjustment_id
                        ]
                        adjustments.append(remittance.model_dump(mode="json"))
                        doc["provider_adjustments"] = sorted(
                            adjustments, key=lambda a: str(a["adjustment_id"])
                        )
                return doc

            key = doc_id(tenant, seen.remittance_id)
            await view.change(REMITTANCES, key, envelope, change)
            if isinstance(seen, RemittanceClaimUnmatched):
                own = unmatched_key(seen.remittance_id, seen.index)
                found = seen

                def queued(doc: Document | None) -> Document | None:
                    return {
                        "tenant": tenant,
                        "key": own,
                        "open": True,
                        "remittance_id": found.remittance_id,
                        "index": found.index,
                        "claim_ref": found.claim_ref,
                        "payer_claim_control_number": found.payer_claim_control_number,
                        "paid_cents": found.paid_cents,
                        "reason": found.reason,
                        "found_at": found.found_at.isoformat(),
                    }

                await view.change(UNMATCHED, doc_id(tenant, own), envelope, queued)
            elif isinstance(seen, RemittanceClaimMatched):
                own = unmatched_key(seen.remittance_id, seen.index)
                matched = seen

                def resolved(doc: Document | None) -> Document | None:
                    if doc is None:  # its RemittanceClaimUnmatched comes first on the stream
                        return None
                    doc.update(open=False, matched_to=matched.claim_id)
                    doc["matched_at"] = matched.matched_at.isoformat()
                    return doc

                await view.change(UNMATCHED, doc_id(tenant, own), envelope, resolved)
