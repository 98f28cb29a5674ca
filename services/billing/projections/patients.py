"""`billing.patient_balances`: one document per patient ledger (by id only: no PHI), for the
balances list, the front desk's balance look-up and the statement run.

What the ledger's events say: the balance (assessed, less payments, plus refunds, less
write-offs), the sites of the visits owed for (a manager reads their sites'), the collection
stage, the open plan, the last statement.
"""

from __future__ import annotations

from services.billing.domain.events import (
    CollectionStageChanged,
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    PatientResponsibilityAssessed,
    PaymentPlanAgreed,
    PaymentPlanEnded,
    StatementIssued,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "billing.patient_balances"
BALANCES = "patient_balances"

_Ledger = (
    PatientResponsibilityAssessed
    | PatientPaymentReceived
    | PatientRefunded
    | PatientBalanceWrittenOff
    | PaymentPlanAgreed
    | PaymentPlanEnded
    | StatementIssued
    | CollectionStageChanged
)


def doc_id(tenant: str, patient_id: str) -> str:
    return f"{tenant}:{patient_id}"


def _delta(event: DomainEvent) -> int:
    match event:
        case PatientResponsibilityAssessed():
            return event.amount_cents
        case PatientPaymentReceived():
            return -event.amount_cents
        case PatientRefunded():
            return event.amount_cents
        case PatientBalanceWrittenOff():
            return -event.amount_cents
    return 0


class PatientBalancesProjection:
    name = PROJECTION
    contexts = ("billing",)
    collections = (BALANCES,)
    handles: tuple[type[DomainEvent], ...] = (
        PatientResponsibilityAssessed,
        PatientPaymentReceived,
        PatientRefunded,
        PatientBalanceWrittenOff,
        PaymentPlanAgreed,
        PaymentPlanEnded,
        StatementIssued,
        CollectionStageChanged,
    )

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, _Ledger):
            return [(BALANCES, doc_id(envelope.tenant, event.patient_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, _Ledger):
            return
        tenant = envelope.tenant

        def change(doc: Document | None) -> Document | None:
            doc = doc or {
                "tenant": tenant,
                "stream": envelope.stream,
                "patient_id": event.patient_id,
                "balance_cents": 0,
                "site_ids": [],
                "stage": "current",
                "plan_id": None,
                "last_statement": None,
            }
            doc["balance_cents"] = int(doc["balance_cents"]) + _delta(event)
            match event:
                case PatientResponsibilityAssessed() | PatientPaymentReceived():
                    if event.site_id not in doc["site_ids"]:
                        doc["site_ids"] = [*doc["site_ids"], event.site_id]
                case PaymentPlanAgreed():
                    doc["plan_id"] = event.plan_id
                case PaymentPlanEnded():
                    doc["plan_id"] = None
                case StatementIssued():
                    doc["last_statement"] = {
                        "statement_id": event.statement_id,
                        "period_end": event.period_end.isoformat(),
                        "balance_cents": event.balance_cents,
                    }
                case CollectionStageChanged():
                    doc["stage"] = event.stage
            doc["changed_at"] = envelope.time.isoformat()
            return doc

        await view.change(BALANCES, doc_id(tenant, event.patient_id), envelope, change)
