"""Finance's read models: vendors (their tax id as sealed), invoices with their status and the
business dates it changed on (AP aging and expenses as of any day are read from these),
actual postings (revenue recognised, write-offs apart from it, payroll journals) and
completed visits per site.

The month report reads sums, not those documents (`day_sums`): per tenant, kind (revenue by
posting month, revenue by service month, expense, visits), month, recording day, site and
account, the amount (or visit count) recorded that day. "As of a day" sums the rows of days
on or before it: one id range (`sum_range`), an index lookup on every store. The sums follow
the documents they come from: when a posting, invoice or visit document changes, what it
contributed before (`contributions`) is taken off and what it contributes now is added, so the
sums always equal what reading those documents would give. An invoice contributes its lines
on the day it was received, and takes them back on the day it was voided or rejected (not
before it was received): "as of" follows its business dates, as AP aging does.

Each sum keeps, like any document, the last version of each stream it applied (`_seen`); a sum
is per recording day, so that map holds a day's streams, not a month's. The sums are flushed
before the documents they follow (collections are written in name order, and `day_sums` sorts
first): a batch that stops between the two leaves the documents unwritten, and the retry
computes the same changes again, which the sums that were written skip.

Invoices owed as of a day (AP aging) are found without reading every invoice: those open now
(`owing` is the tenant: an equality index) and those closed after the day (`closings`, one
per invoice and day it was paid, voided or rejected, ids ordered by that day: a range).

Read for listing and reporting only: every command decides from the event store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from services.finance.domain.events import (
    InvoiceApproved,
    InvoicePaid,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceReleasedFromRun,
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
from shared.readmodels import seen_version

PROJECTION = "finance.ledger"
VENDORS, INVOICES, POSTINGS, VISITS = "vendors", "invoices", "postings", "visits"
# Sums per recording day of what the postings, invoices and visits above contribute (the
# name sorts before theirs: flushed first), and the days invoices were closed on.
SUMS, CLOSINGS = "day_sums", "closings"
# The kinds of sums: revenue by posting month or by service month, write-offs (not revenue:
# kept apart) likewise, expenses, visits.
REVENUE_BY_POSTING, REVENUE_BY_SERVICE = "revenue-posting", "revenue-service"
WRITE_OFF_BY_POSTING, WRITE_OFF_BY_SERVICE = "write-off-posting", "write-off-service"
EXPENSE, VISIT_COUNT = "expense", "visits"
OPEN_STATUSES = ("received", "approved", "scheduled")

# (kind, month, day recorded, site, account): what a document adds to that sum.
SumKey = tuple[str, str, str, str, str]


def vendor_id(tenant: str, vendor: str) -> str:
    return f"{tenant}:{vendor}"


def invoice_id(tenant: str, invoice: str) -> str:
    return f"{tenant}:{invoice}"


def month_of(day: date) -> str:
    return f"{day:%Y-%m}-01"


def sum_id(tenant: str, key: SumKey) -> str:
    """A sum's id: by tenant, kind, month, then day, so that a month's days are a range."""
    kind, month, day, site, account = key
    return f"{tenant}:{kind}:{month}:{day}:{site}:{account}"


def sum_range(tenant: str, kind: str, month: date, as_of: date) -> dict[str, Any]:
    """The filter of a month's sums of a kind recorded on or before `as_of`: a range of ids
    (the primary key on SQLite, `_id` on MongoDB) and its scope (an equality index)."""
    prefix = f"{tenant}:{kind}:{month.isoformat()}:"
    return {
        "_id": {"$gte": prefix, "$lt": f"{prefix}{as_of + timedelta(days=1)}"},
        "scope": prefix,
    }


def closing_id(tenant: str, day: str, invoice: str) -> str:
    return f"{tenant}:{day}:{invoice}"


def closed_after(tenant: str, day: date) -> dict[str, Any]:
    """The filter of a tenant's closings on a day after `day`: a range of ids."""
    return {"_id": {"$gte": f"{tenant}:{day + timedelta(days=1)}", "$lt": f"{tenant}:~"}}


def _sum_kinds(kind: str) -> tuple[str, str]:
    """The sums (by posting month, by service month) a revenue posting of a kind adds to:
    write-offs apart from revenue."""
    if kind == "write_off":
        return WRITE_OFF_BY_POSTING, WRITE_OFF_BY_SERVICE
    return REVENUE_BY_POSTING, REVENUE_BY_SERVICE


def contributions(collection: str, doc: Document | None) -> Counter[SumKey]:
    """What a posting, invoice or visit document adds to the sums."""
    added: Counter[SumKey] = Counter()
    if doc is None:
        return added
    if collection == VISITS:
        added[(VISIT_COUNT, doc["month"], doc["recorded_on"], doc["site_id"], "")] += 1
    elif collection == POSTINGS:
        site, account, day = doc["site_id"], doc["account_code"], doc["recorded_on"]
        amount = int(doc["amount_cents"])
        if doc["kind"] in ("revenue", "write_off"):
            posting, service = _sum_kinds(doc["kind"])
            added[(posting, doc["month"], day, site, account)] += amount
            added[(service, doc["service_month"], day, site, account)] += amount
        else:
            added[(EXPENSE, doc["month"], day, site, account)] += amount
    elif collection == INVOICES:
        received = doc["received_on"]
        ends = [doc[f] for f in ("voided_on", "rejected_on") if doc.get(f) is not None]
        ended = max(received, min(ends)) if ends else None
        for line in doc["lines"]:
            site, account, amount = line["site_id"], line["account_code"], line["amount_cents"]
            added[(EXPENSE, doc["month"], received, site, account)] += amount
            if ended is not None:
                added[(EXPENSE, doc["month"], ended, site, account)] -= amount
    return added


class LedgerProjection:
    name = PROJECTION
    contexts = ("finance", "scheduling")
    collections = (VENDORS, INVOICES, POSTINGS, VISITS, SUMS, CLOSINGS)

    def keys(self, event: DomainEvent, envelope: Envelope) -> Iterable[tuple[str, str]]:
        """The documents `apply` reads that the event alone names (the runner reads a batch's
        in one go): the posting, invoice or visit, and the sums it adds to."""
        tenant = envelope.tenant
        match event:
            case RevenueRecognised():
                recorded, site, code = (
                    event.recognised_at.date().isoformat(),
                    event.site_id,
                    event.account_code,
                )
                yield POSTINGS, f"{tenant}:revenue:{event.learnt_from}"
                posting, service = _sum_kinds(event.kind)
                by_posting = (posting, month_of(event.posted_on), recorded, site, code)
                by_service = (service, month_of(event.date_of_service), recorded, site, code)
                yield SUMS, sum_id(tenant, by_posting)
                yield SUMS, sum_id(tenant, by_service)
            case VisitCompleted():
                yield VISITS, f"{tenant}:{event.appointment_id}"
                day = event.completed_at.date().isoformat()
                key = (VISIT_COUNT, month_of(event.start.date()), day, event.site_id, "")
                yield SUMS, sum_id(tenant, key)
            case InvoiceReceived():
                yield INVOICES, invoice_id(tenant, event.invoice_id)
                month, day = month_of(event.invoice_date), event.received_on.isoformat()
                for line in event.lines:
                    key = (EXPENSE, month, day, line.site_id, line.account_code)
                    yield SUMS, sum_id(tenant, key)
            case InvoiceApproved() | InvoiceScheduledForPayment() | InvoicePaid():
                yield INVOICES, invoice_id(tenant, event.invoice_id)
            case PayrollJournalPosted():
                day = event.posted_at.date().isoformat()
                for entry in event.lines:
                    site, code = entry.site_id, entry.account_code
                    yield POSTINGS, f"{tenant}:payroll:{event.journal_id}:{site}:{code}"
                    key = (EXPENSE, event.month.isoformat(), day, site, code)
                    yield SUMS, sum_id(tenant, key)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        added: Counter[SumKey] = Counter()
        await self._apply(event, envelope, _Tracking(view, envelope, added))
        await _add_sums(envelope, added, view)

    async def _apply(self, event: DomainEvent, envelope: Envelope, view: _Tracking) -> None:
        tenant = envelope.tenant
        match event:
            case VisitCompleted():
                await self._visit(event, envelope, view)
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
                | InvoiceReleasedFromRun()
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
                    # A write-off is not cash: kept apart from revenue (`domain/revenue.py`).
                    "kind": "write_off" if event.kind == "write_off" else "revenue",
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

    async def _visit(self, event: VisitCompleted, envelope: Envelope, view: _Tracking) -> None:
        visit = {
            "tenant": envelope.tenant,
            "appointment_id": event.appointment_id,
            "site_id": event.site_id,
            "month": month_of(event.start.date()),
            "recorded_on": event.completed_at.date().isoformat(),
        }
        doc_id = f"{envelope.tenant}:{event.appointment_id}"
        await view.change(VISITS, doc_id, envelope, _put(visit))


class _Tracking:
    """The batch's view for one event: changes of postings, invoices and visits add what they
    change in the sums to `added`; an invoice's change records the day it closed."""

    def __init__(self, view: View, envelope: Envelope, added: Counter[SumKey]) -> None:
        self._view = view
        self._envelope = envelope
        self._added = added

    async def change(
        self,
        collection: str,
        doc_id: str,
        envelope: Envelope,
        change: Callable[[Document | None], Document | None],
    ) -> None:
        if collection not in (POSTINGS, INVOICES, VISITS):
            await self._view.change(collection, doc_id, envelope, change)
            return
        before = await self._view.get(collection, doc_id)
        if seen_version(before, envelope.stream) >= envelope.stream_version:
            return
        was = contributions(collection, before)
        await self._view.change(collection, doc_id, envelope, change)
        after = await self._view.get(collection, doc_id)
        self._added.update(contributions(collection, after))
        self._added.subtract(was)
        if collection == INVOICES and after is not None:
            await self._closing(after, before)

    async def _closing(self, after: Document, before: Document | None) -> None:
        for field in ("paid_on", "voided_on", "rejected_on"):
            day = after.get(field)
            if day is not None and (before is None or before.get(field) != day):
                closing = {"tenant": after["tenant"], "invoice_id": after["invoice_id"], "day": day}
                doc_id = closing_id(after["tenant"], day, after["invoice_id"])
                await self._view.change(CLOSINGS, doc_id, self._envelope, _put(closing))


async def _add_sums(envelope: Envelope, added: Counter[SumKey], view: View) -> None:
    """Add one event's changes to the sums (one change per sum: a second would be skipped)."""
    for key, amount in added.items():
        if amount != 0:
            tenant = envelope.tenant
            await view.change(SUMS, sum_id(tenant, key), envelope, _adding(tenant, key, amount))


def _adding(tenant: str, key: SumKey, amount: int) -> Callable[[Document | None], Document]:
    kind, month, day, site, account = key

    def add(doc: Document | None) -> Document:
        if doc is None:
            doc = {"tenant": tenant, "scope": f"{tenant}:{kind}:{month}:", "kind": kind}
            doc |= {"month": month, "day": day, "site_id": site, "account_code": account}
            doc["amount"] = 0
        doc["amount"] = int(doc["amount"]) + amount
        return doc

    return add


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
        "owing": tenant,
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
    elif isinstance(event, InvoiceReleasedFromRun):
        doc["status"], doc["run_id"] = "approved", None
    elif isinstance(event, InvoiceVoided):
        doc["status"], doc["voided_on"] = "voided", event.voided_on.isoformat()
        doc["reason"] = event.reason
    return doc
