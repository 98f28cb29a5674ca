"""Finance's read models: vendors (their tax id as sealed), invoices with their status and the
business dates it changed on (AP aging and expenses as of any day are read from these),
actual postings (revenue recognised, payroll journals), completed visits per site, and the
facts of billing's claims that its payments are recognised with (site, payer class, date of
service).

Read for listing and reporting only: every command decides from the event store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from services.billing.contracts import ChargeCreated, ClaimCreated, PayerDefined
from services.finance.domain.events import (
    InvoiceApproved,
    InvoicePaid,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceScheduledForPayment,
    InvoiceVoided,
    PayrollJournalPosted,
    RevenueRecognised,
    VendorRegistered,
)
from services.scheduling.contracts import VisitCompleted
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "finance.ledger"
VENDORS, INVOICES, POSTINGS, VISITS = "vendors", "invoices", "postings", "visits"
# What billing's payments are learnt with: a claim's site, payer and charges (their dates of
# service) and the payer's class (its claim filing indicator).
PAYERS, CHARGES, CLAIMS = "billing_payers", "billing_charges", "billing_claims"


def vendor_id(tenant: str, vendor: str) -> str:
    return f"{tenant}:{vendor}"


def invoice_id(tenant: str, invoice: str) -> str:
    return f"{tenant}:{invoice}"


def month_of(day: date) -> str:
    return f"{day:%Y-%m}-01"


class LedgerProjection:
    name = PROJECTION
    contexts = ("finance", "scheduling", "billing")
    collections = (VENDORS, INVOICES, POSTINGS, VISITS, PAYERS, CHARGES, CLAIMS)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        match event:
            case VisitCompleted():
                await self._visit(event, envelope, view)
            case PayerDefined():
                payer = {"tenant": tenant, "claim_filing_indicator": event.claim_filing_indicator}
                await view.change(PAYERS, f"{tenant}:{event.payer_id}", envelope, _put(payer))
            case ChargeCreated():
                charge = {"tenant": tenant, "date_of_service": event.date_of_service.isoformat()}
                await view.change(CHARGES, f"{tenant}:{event.charge_id}", envelope, _put(charge))
            case ClaimCreated():
                claim = {
                    "tenant": tenant,
                    "site_id": event.site_id,
                    "payer_id": event.payer_id,
                    "charge_ids": list(event.charge_ids),
                }
                await view.change(CLAIMS, f"{tenant}:{event.claim_id}", envelope, _put(claim))
            case VendorRegistered():
                fields = event.model_dump(mode="json")

                def registered(doc: Document | None) -> Document:
                    return {
                        "tenant": tenant,
                        "vendor_id": event.vendor_id,
                        "name": event.name,
                        "terms": event.terms,
                        "tax_id": fields["tax_id"],
                        "registered_on": event.registered_at.date().isoformat(),
                    }

                await view.change(VENDORS, vendor_id(tenant, event.vendor_id), envelope, registered)
            case InvoiceReceived():
                received = _received(tenant, event)
                await view.change(
                    INVOICES, invoice_id(tenant, event.invoice_id), envelope, _put(received)
                )
            case (
                InvoiceApproved()
                | InvoiceRejected()
                | InvoiceScheduledForPayment()
                | InvoicePaid()
                | InvoiceVoided()
            ):
                await view.change(
                    INVOICES,
                    invoice_id(tenant, event.invoice_id),
                    envelope,
                    lambda doc: _changed(doc, event),
                )
            case RevenueRecognised():
                posting = {
                    "tenant": tenant,
                    "kind": "revenue",
                    "revenue_kind": event.kind,
                    "site_id": event.site_id,
                    "account_code": event.account_code,
                    "amount_cents": event.amount_cents,
                    "month": month_of(event.posted_on),
                    "service_month": month_of(event.date_of_service),
                    "posted_on": event.posted_on.isoformat(),
                    "recorded_on": event.recognised_at.date().isoformat(),
                }
                doc_id = f"{tenant}:revenue:{event.learnt_from}"
                await view.change(POSTINGS, doc_id, envelope, _put(posting))
            case PayrollJournalPosted():
                for line in event.lines:
                    posting = {
                        "tenant": tenant,
                        "kind": "payroll",
                        "journal_id": event.journal_id,
                        "site_id": line.site_id,
                        "account_code": line.account_code,
                        "amount_cents": line.amount_cents,
                        "month": event.month.isoformat(),
                        "recorded_on": event.posted_at.date().isoformat(),
                    }
                    doc_id = (
                        f"{tenant}:payroll:{event.journal_id}:{line.site_id}:{line.account_code}"
                    )
                    await view.change(POSTINGS, doc_id, envelope, _put(posting))

    async def _visit(self, event: VisitCompleted, envelope: Envelope, view: View) -> None:
        visit = {
            "tenant": envelope.tenant,
            "appointment_id": event.appointment_id,
            "site_id": event.site_id,
            "month": month_of(event.start.date()),
            "recorded_on": event.completed_at.date().isoformat(),
        }
        doc_id = f"{envelope.tenant}:{event.appointment_id}"
        await view.change(VISITS, doc_id, envelope, _put(visit))


def _put(value: Document) -> Callable[[Document | None], Document]:
    """A change that writes `value` whole (what one event alone decides)."""

    def put(_: Document | None) -> Document:
        return value

    return put


def _received(tenant: str, event: InvoiceReceived) -> Document:
    return {
        "tenant": tenant,
        "vendor_id": event.vendor_id,
        "invoice_id": event.invoice_id,
        "invoice_number": event.invoice_number,
        "invoice_date": event.invoice_date.isoformat(),
        "month": month_of(event.invoice_date),
        "received_on": event.received_on.isoformat(),
        "due_on": event.due_on.isoformat(),
        "terms": event.terms,
        "lines": [line.model_dump(mode="json") for line in event.lines],
        "site_ids": sorted({line.site_id for line in event.lines}),
        "total_cents": event.total_cents,
        "received_by": event.received_by,
        "approvals_needed": event.approvals_needed,
        "approved_by": [],
        "status": "received",
        "run_id": None,
        "paid_on": None,
        "voided_on": None,
        "rejected_on": None,
    }


def _changed(doc: Document | None, event: DomainEvent) -> Document | None:
    if doc is None:
        return None  # its vendor's stream is in order: received comes first
    if isinstance(event, InvoiceApproved):
        doc["approved_by"] = [*doc["approved_by"], event.approved_by]
        if event.approvals_given >= event.approvals_needed:
            doc["status"] = "approved"
    elif isinstance(event, InvoiceRejected):
        doc["status"], doc["rejected_on"] = "rejected", event.rejected_on.isoformat()
        doc["reason"] = event.reason
    elif isinstance(event, InvoiceScheduledForPayment):
        doc["status"], doc["run_id"] = "scheduled", event.run_id
    elif isinstance(event, InvoicePaid):
        doc["status"], doc["paid_on"] = "paid", event.paid_on.isoformat()
    elif isinstance(event, InvoiceVoided):
        doc["status"], doc["voided_on"] = "voided", event.voided_on.isoformat()
        doc["reason"] = event.reason
    return doc
