"""Accounts-payable aging as of any date: a pure fold over the vendors' invoice events.

As of a day, an invoice is owed when it was received on or before that day and was neither
paid, voided nor rejected on or before it (the business dates the events carry, so that the
answer for a past day never changes with what was recorded later about later days). Its age is
the days past its due date: not past due is `current`, then `1-30`, `31-60`, `61-90` and `90+`
(91 days and more). Each bucket holds a whole number of cents; nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from services.finance.domain.events import (
    InvoicePaid,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceVoided,
)
from shared.events import DomainEvent

BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")


def bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


def _empty_buckets() -> Mapping[str, int]:
    return MappingProxyType(dict.fromkeys(BUCKETS, 0))


@dataclass(frozen=True)
class Owed:
    vendor_id: str
    invoice_id: str
    due_on: date
    amount_cents: int
    days_past_due: int
    bucket: str


@dataclass(frozen=True)
class Aging:
    as_of: date
    invoices: tuple[Owed, ...] = ()
    totals: Mapping[str, int] = field(default_factory=_empty_buckets)

    @property
    def total_cents(self) -> int:
        return sum(self.totals.values())

    def by_vendor(self) -> Mapping[str, Mapping[str, int]]:
        """Each vendor's buckets."""
        vendors: dict[str, dict[str, int]] = {}
        for owed in self.invoices:
            row = vendors.setdefault(owed.vendor_id, dict.fromkeys(BUCKETS, 0))
            row[owed.bucket] += owed.amount_cents
        return MappingProxyType({v: MappingProxyType(row) for v, row in sorted(vendors.items())})


def ap_aging(events: Iterable[DomainEvent], as_of: date) -> Aging:
    """The invoices owed as of the day, by how long past due, from every vendor's events in
    any order of vendors (each vendor's in its stream order)."""
    received: dict[str, InvoiceReceived] = {}
    closed: set[str] = set()
    for event in events:
        if isinstance(event, InvoiceReceived) and event.received_on <= as_of:
            received[event.invoice_id] = event
        elif isinstance(event, InvoicePaid) and event.paid_on <= as_of:
            closed.add(event.invoice_id)
        elif isinstance(event, InvoiceVoided) and event.voided_on <= as_of:
            closed.add(event.invoice_id)
        elif isinstance(event, InvoiceRejected) and event.rejected_on <= as_of:
            closed.add(event.invoice_id)
    owed = []
    totals = dict.fromkeys(BUCKETS, 0)
    for invoice in received.values():
        if invoice.invoice_id in closed:
            continue
        days = (as_of - invoice.due_on).days
        item = Owed(
            vendor_id=invoice.vendor_id,
            invoice_id=invoice.invoice_id,
            due_on=invoice.due_on,
            amount_cents=invoice.total_cents,
            days_past_due=max(days, 0),
            bucket=bucket(days),
        )
        owed.append(item)
        totals[item.bucket] += item.amount_cents
    owed.sort(key=lambda o: (o.due_on, o.vendor_id, o.invoice_id))
    return Aging(as_of=as_of, invoices=tuple(owed), totals=MappingProxyType(totals))
