"""`billing.charges`: one document per charge, for the charge lists and the work queues.

What the charge's events say: the visit (patient, site, provider, date of service), the current
diagnoses and lines with their fees and the total, the payer and schedule version that priced
it, the coding issues as last checked (`issue_count` for the coding-errors queue), its status
(held or released), the hold reason, and when it last changed. Patients are named by id only:
no PHI here.
"""

from __future__ import annotations

from typing import Any

from services.billing.domain.events import (
    ChargeCorrected,
    ChargeCreated,
    ChargeHeld,
    ChargeLine,
    ChargeReleased,
    CodingIssue,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "billing.charges"
CHARGES = "charges"

_Charge = ChargeCreated | ChargeCorrected | ChargeHeld | ChargeReleased


def doc_id(tenant: str, charge_id: str) -> str:
    return f"{tenant}:{charge_id}"


def _codes(lines: tuple[ChargeLine, ...], issues: tuple[CodingIssue, ...]) -> dict[str, Any]:
    return {
        "lines": [line.model_dump(mode="json") for line in lines],
        "total_cents": sum(line.fee_cents * line.units for line in lines),
        "issues": [issue.model_dump(mode="json") for issue in issues],
        "issue_count": len(issues),
    }


class ChargesProjection:
    name = PROJECTION
    contexts = ("billing",)
    collections = (CHARGES,)
    handles: tuple[type[DomainEvent], ...] = (
        ChargeCreated,
        ChargeCorrected,
        ChargeHeld,
        ChargeReleased,
    )

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, _Charge):
            return [(CHARGES, doc_id(envelope.tenant, event.charge_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, _Charge):
            return
        tenant = envelope.tenant
        at = envelope.time.isoformat()

        def change(doc: Document | None) -> Document | None:
            if isinstance(event, ChargeCreated):
                fields = event.model_dump(mode="json", exclude={"lines", "issues"})
                return {
                    "tenant": tenant,
                    "stream": envelope.stream,
                    **fields,
                    **_codes(event.lines, event.issues),
                    "status": "held",
                    "hold_reason": None,
                    "corrections": 0,
                    "changed_at": at,
                }
            if doc is None:
                return None
            match event:
                case ChargeCorrected():
                    doc.update(_codes(event.lines, event.issues))
                    doc["diagnoses"] = list(event.diagnoses)
                    doc["corrections"] = int(doc.get("corrections", 0)) + 1
                    doc["last_correction"] = event.reason
                    if event.payer_id is not None:  # repriced under a coverage learnt later
                        doc["payer_id"] = event.payer_id
                        doc["fee_schedule_version"] = event.fee_schedule_version
                    elif doc.get("fee_schedule_version") is None:
                        doc["fee_schedule_version"] = event.fee_schedule_version
                case ChargeHeld():
                    doc["status"] = "held"
                    doc["hold_reason"] = event.reason
                    doc["held_at"] = event.held_at.isoformat()
                case ChargeReleased():
                    doc["status"] = "released"
                    doc["hold_reason"] = None
                    doc["released_at"] = event.released_at.isoformat()
            doc["changed_at"] = at
            return doc

        await view.change(CHARGES, doc_id(tenant, event.charge_id), envelope, change)
