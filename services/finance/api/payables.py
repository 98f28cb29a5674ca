"""Accounts payable over HTTP: vendors (their tax id shown to finance only), invoices
(received by finance; approved by finance or a manager of every site on it, never by who
entered it; rejected; voided), payment runs and AP aging."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import Field

from services.finance.api.common import (
    Approve,
    Cents,
    Day,
    Read,
    ReadAll,
    Reason,
    Work,
    check_sites,
    group_wide,
    readable_sites,
)
from services.finance.application.payables import Payables
from services.finance.application.reports import Reports
from services.finance.domain import streams
from services.finance.domain.events import InvoiceLine, Terms
from services.finance.projections.ledger import INVOICES, PROJECTION, VENDORS
from shared.http.app import metadata
from shared.http.identity import Principal
from shared.http.routes import (
    AfterVersion,
    Body,
    Cursor,
    Id,
    Limit,
    Name,
    Recorded,
    decode_cursor,
    next_cursor,
    read_after,
    recorded,
)
from shared.phivault import PhiVault
from shared.readmodels import ReadModels

TaxId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")]
Text = Annotated[str, Field(max_length=500)]

InvoiceStatus = Literal["received", "approved", "rejected", "scheduled", "paid", "voided"]


class VendorIn(Body):
    vendor_id: Id | None = None
    name: Name
    tax_id: TaxId
    terms: Terms = "net_30"


class LineIn(Body):
    account_code: Annotated[str, Field(min_length=1, max_length=16)]
    site_id: Id
    amount_cents: Cents
    description: Text = ""


class InvoiceIn(Body):
    invoice_id: Id | None = None
    vendor_id: Id
    invoice_number: Annotated[str, Field(min_length=1, max_length=64)]
    invoice_date: Day
    received_on: Day
    terms: Terms | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=500)


class ReasonIn(Body):
    reason: Reason
    on: Day


class RunIn(Body):
    run_id: Id | None = None
    pay_on: Day


def build_router(
    payables: Payables,
    reports: Reports,
    read_models: ReadModels,
    vault: PhiVault,
    wait_timeout: float,
) -> APIRouter:
    router = APIRouter(prefix="/finance", tags=["finance"])

    async def wait(collection: str, doc_id: str, stream: str, version: int | None) -> None:
        if version is not None:
            await read_after(
                read_models, PROJECTION, collection, doc_id, stream, version, wait_timeout,
                payables.stream_version,
            )  # fmt: skip

    async def on_sites(who: Principal, invoice_id: str) -> None:
        """A manager acts on invoices coded to their sites only (403)."""
        if not group_wide(who):
            check_sites(who, sorted(await payables.invoice_sites(who.tenant, invoice_id)))

    # ------------------------------------------------------------------------- vendors

    @router.post("/vendors", status_code=201)
    async def register_vendor(request: Request, body: VendorIn, who: Principal = Work) -> Recorded:
        vendor_id = body.vendor_id or payables.new_id()
        outcome = await payables.register_vendor(
            metadata(request, who),
            vendor_id=vendor_id,
            name=body.name,
            tax_id=body.tax_id,
            terms=body.terms,
        )
        return recorded(vendor_id, outcome)

    @router.get("/vendors")
    async def vendors(
        who: Principal = ReadAll, limit: Limit = 100, cursor: Cursor = None
    ) -> dict[str, Any]:
        """Vendors in vendor id order, a page at a time (`next_cursor` to the next); the tax
        id is shown on a vendor's own read only (null here)."""
        after = decode_cursor(cursor, 1)[0] if cursor is not None else None
        found = await reports.vendors(who.tenant, limit, after)
        for vendor in found:
            vendor.pop("tenant", None)
            vendor["tax_id"] = None
        return {
            "vendors": found,
            "next_cursor": next_cursor(found, limit, lambda v: (str(v["vendor_id"]),)),
        }

    @router.get("/vendors/{vendor_id}")
    async def vendor(
        vendor_id: Id, who: Principal = ReadAll, after_version: AfterVersion = None
    ) -> dict[str, Any]:
        """A vendor; its tax id is opened for finance (and admins) only, null for others."""
        stream = streams.vendor(who.tenant, vendor_id)
        await wait(VENDORS, f"{who.tenant}:{vendor_id}", stream, after_version)
        found = await reports.vendor(who.tenant, vendor_id)
        if found is None:
            raise HTTPException(404, f"vendor {vendor_id} not found")
        found.pop("tenant", None)
        if {"finance", "admin"} & set(who.roles):
            await vault.reveal_fields(who.tenant, found, "tax_id")
        else:
            found["tax_id"] = None
        return found

    # ------------------------------------------------------------------------- invoices

    @router.post("/invoices", status_code=201)
    async def receive(request: Request, body: InvoiceIn, who: Principal = Work) -> Recorded:
        """An invoice, its lines coded to expense accounts and sites. The same vendor, number
        and amount again: 409 naming the first invoice."""
        invoice_id = body.invoice_id or payables.new_id()
        outcome = await payables.receive(
            metadata(request, who),
            vendor_id=body.vendor_id,
            invoice_id=invoice_id,
            invoice_number=body.invoice_number,
            invoice_date=body.invoice_date,
            received_on=body.received_on,
            terms=body.terms,
            lines=tuple(InvoiceLine(**line.model_dump()) for line in body.lines),
        )
        return recorded(invoice_id, outcome)

    @router.post("/invoices/{invoice_id}/approval")
    async def approve(request: Request, invoice_id: Id, who: Principal = Approve) -> Recorded:
        """One approval: never by who entered it (403); over the limit a second, different
        approver is needed."""
        await on_sites(who, invoice_id)
        return recorded(invoice_id, await payables.approve(metadata(request, who), invoice_id))

    @router.post("/invoices/{invoice_id}/rejection")
    async def reject(
        request: Request, invoice_id: Id, body: ReasonIn, who: Principal = Approve
    ) -> Recorded:
        await on_sites(who, invoice_id)
        outcome = await payables.reject(
            metadata(request, who), invoice_id, reason=body.reason, rejected_on=body.on
        )
        return recorded(invoice_id, outcome)

    @router.post("/invoices/{invoice_id}/void")
    async def void(
        request: Request, invoice_id: Id, body: ReasonIn, who: Principal = Work
    ) -> Recorded:
        """Owed no more; a paid invoice, or one in a payment run, is not voided (409)."""
        outcome = await payables.void(
            metadata(request, who), invoice_id, reason=body.reason, voided_on=body.on
        )
        return recorded(invoice_id, outcome)

    @router.get("/invoices")
    async def invoices(
        who: Principal = Read,
        status: InvoiceStatus | None = None,
        vendor_id: Id | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """Invoices, by `status` and `vendor_id`, in invoice id order, a page at a time
        (`next_cursor` to the next); a manager sees those coded to their sites only."""
        after = decode_cursor(cursor, 1)[0] if cursor is not None else None
        sites = readable_sites(who)

        def keep(doc: dict[str, Any]) -> bool:
            return (
                (status is None or doc["status"] == status)
                and (vendor_id is None or doc["vendor_id"] == vendor_id)
                and (sites is None or bool(set(doc["site_ids"]) & set(sites)))
            )

        found = await reports.invoices(who.tenant, limit, after, keep)
        for invoice in found:
            invoice.pop("tenant", None)
            invoice.pop("owing", None)
        return {
            "invoices": found,
            "next_cursor": next_cursor(found, limit, lambda i: (str(i["invoice_id"]),)),
        }

    @router.get("/invoices/{invoice_id}")
    async def invoice(
        invoice_id: Id,
        who: Principal = Read,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """An invoice and its status; `after_version` (of its vendor's stream, as a write to
        it answered) waits for that write."""
        if after_version is not None:
            stream = await payables.vendor_stream(who.tenant, invoice_id)
            await wait(INVOICES, f"{who.tenant}:{invoice_id}", stream, after_version)
        found = await reports.invoice(who.tenant, invoice_id)
        if found is None:
            raise HTTPException(404, f"invoice {invoice_id} not found")
        check_sites(who, found["site_ids"])
        found.pop("tenant", None)
        return found

    # ------------------------------------------------------------------------- payment runs

    @router.post("/payment-runs", status_code=201)
    async def start_run(request: Request, body: RunIn, who: Principal = Work) -> Recorded:
        """Schedule the approved invoices due by `pay_on` and start the run; the same
        `run_id` again (after a crash) schedules nothing twice."""
        run_id = body.run_id or payables.new_id()
        outcome = await payables.start_run(
            metadata(request, who), run_id=run_id, pay_on=body.pay_on
        )
        return recorded(run_id, outcome)

    @router.post("/payment-runs/{run_id}/completion")
    async def complete_run(request: Request, run_id: Id, who: Principal = Work) -> Recorded:
        """Pay each invoice of the run once and close it: again, it pays nothing twice."""
        return recorded(run_id, await payables.complete_run(metadata(request, who), run_id))

    @router.post("/payment-runs/{run_id}/abandonment")
    async def abandon_run(request: Request, run_id: Id, who: Principal = Work) -> Recorded:
        """Give up a run not completed (one that crashed before it started too): it neither
        starts nor completes any more, and its invoices not paid are approved again."""
        return recorded(run_id, await payables.abandon_run(metadata(request, who), run_id))

    @router.get("/payment-runs/{run_id}")
    async def run(run_id: Id, who: Principal = ReadAll) -> dict[str, Any]:
        """What became of a run: `state` scheduling (crashed before it started: start it
        again with the same id, or abandon it), started, completed or abandoned, and each
        invoice's `status` in it: scheduled, paid or released."""
        return await payables.what_became_of(who.tenant, run_id)

    # ------------------------------------------------------------------------- aging

    @router.get("/ap-aging")
    async def ap_aging(
        who: Principal = Read,
        as_of: Day | None = None,
        site_id: Id | None = None,
    ) -> dict[str, Any]:
        """What is owed as of a day (today by default), by days past due; a manager sees the
        invoices coded to their sites."""
        if site_id is not None:
            check_sites(who, [site_id])
            sites: list[str] | None = [site_id]
        else:
            sites = None if group_wide(who) or who.sites == "*" else list(who.sites)
        day = as_of or payables.now().date()
        return await reports.ap_aging(who.tenant, day, sites)

    return router
