"""Stream names: each invariant lives in one stream (the chart, a site's budget for a fiscal
year, a vendor with its invoices, a payment run, a month's payroll, one billing event's
revenue)."""

from __future__ import annotations

from datetime import date

from services.finance.domain.events import InvoiceReceived, VendorRegistered
from shared.events import DomainEvent


def chart(tenant: str) -> str:
    """The chart of accounts and the cost centres."""
    return f"{tenant}:chart"


def budget(tenant: str, site_id: str, fiscal_year: int) -> str:
    """Every version of a site's budget for a fiscal year, and which is approved."""
    return f"{tenant}:budget:{site_id}:{fiscal_year}"


def vendor(tenant: str, vendor_id: str) -> str:
    """A vendor and all its invoices: a duplicate, a second payment or a second open run for
    one invoice is decided here."""
    return f"{tenant}:vendor:{vendor_id}"


def invoice_tag(tenant: str, invoice_id: str) -> str:
    """Tags the commits of an invoice: finds its vendor's stream by invoice id."""
    return f"{tenant}:invoice:{invoice_id}"


def payment_run(tenant: str, run_id: str) -> str:
    return f"{tenant}:payment-run:{run_id}"


def payroll(tenant: str, month: date) -> str:
    """A month's payroll journals: the same lines are posted once."""
    return f"{tenant}:payroll:{month:%Y-%m}"


def revenue(tenant: str, learnt_from: str) -> str:
    """The revenue learnt from one billing event: recognised once, however often delivered."""
    return f"{tenant}:revenue:{learnt_from}"


def vendors_tag(tenant: str) -> str:
    """Tags every vendor's registration: a payment run finds the tenant's vendors by it."""
    return f"{tenant}:vendors"


def tags(tenant: str, event: DomainEvent) -> tuple[str, ...]:
    """The tags of the commit that records `event`."""
    if isinstance(event, VendorRegistered):
        return (vendors_tag(tenant),)
    if isinstance(event, InvoiceReceived):
        return (invoice_tag(tenant, event.invoice_id),)
    return ()
