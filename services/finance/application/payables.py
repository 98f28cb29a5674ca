"""Accounts payable: vendors, their invoices (received, approved, rejected, voided) and
payment runs. Every command decides on the vendor's stream, found by the invoice's tag; a
payment run picks from the vendors' streams as the event store has them (never a read model),
so a run started or completed again with the same id pays nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from services.finance.application.accounts import Accounts
from services.finance.domain import streams
from services.finance.domain.events import InvoiceLine, RunInvoice, Terms
from services.finance.domain.payables import (
    ApproveInvoice,
    Invoice,
    PayInvoice,
    ReceiveInvoice,
    RegisterVendor,
    RejectInvoice,
    ReleaseInvoice,
    ScheduleInvoice,
    Vendor,
    VoidInvoice,
    vendor,
)
from services.finance.domain.payment_runs import (
    AbandonPaymentRun,
    CompletePaymentRun,
    PaymentRun,
    StartPaymentRun,
    payment_run,
    pick,
    still_to_pay,
)
from shared.commands import CommandHandler, Outcome
from shared.domain import NotFound, Rejected
from shared.events import Metadata
from shared.usecases import UseCases


class Payables(UseCases):
    def __init__(self, handler: CommandHandler, accounts: Accounts) -> None:
        super().__init__(handler)
        self._accounts = accounts

    # ------------------------------------------------------------------------- vendors

    async def register_vendor(
        self, meta: Metadata, *, vendor_id: str, name: str, tax_id: str, terms: Terms
    ) -> Outcome[Vendor]:
        command = RegisterVendor(
            vendor_id=vendor_id,
            name=name,
            tax_id=tax_id,
            terms=terms,
            registered_by=meta.actor or "",
            registered_at=self.now(),
        )
        return await self.decide(streams.vendor(meta.tenant, vendor_id), vendor, command, meta)

    async def vendor_stream(self, tenant: str, invoice_id: str) -> str:
        found = await self._handler.store.streams_tagged(streams.invoice_tag(tenant, invoice_id))
        if not found:
            raise NotFound(f"invoice {invoice_id} not found")
        return found[-1]

    async def invoice_sites(self, tenant: str, invoice_id: str) -> set[str]:
        """The sites an invoice's lines are coded to, as the event store has them."""
        stream = await self.vendor_stream(tenant, invoice_id)
        invoice = (await self.state(stream, vendor)).invoice(invoice_id)
        return {line.site_id for line in invoice.lines}

    # ------------------------------------------------------------------------- invoices

    async def receive(
        self,
        meta: Metadata,
        *,
        vendor_id: str,
        invoice_id: str,
        invoice_number: str,
        invoice_date: date,
        received_on: date,
        terms: Terms | None,
        lines: tuple[InvoiceLine, ...],
    ) -> Outcome[Vendor]:
        command = ReceiveInvoice(
            vendor_id=vendor_id,
            invoice_id=invoice_id,
            invoice_number=invoice_number,
            invoice_date=invoice_date,
            received_on=received_on,
            terms=terms,
            lines=lines,
            chart=await self._accounts.in_use(meta),
            received_by=meta.actor or "",
            received_at=self.now(),
        )
        return await self.decide(streams.vendor(meta.tenant, vendor_id), vendor, command, meta)

    async def approve(self, meta: Metadata, invoice_id: str) -> Outcome[Vendor]:
        stream = await self.vendor_stream(meta.tenant, invoice_id)
        command = ApproveInvoice(
            vendor_id=_vendor_of(stream),
            invoice_id=invoice_id,
            approved_by=meta.actor or "",
            approved_at=self.now(),
        )
        return await self.decide(stream, vendor, command, meta)

    async def reject(
        self, meta: Metadata, invoice_id: str, *, reason: str, rejected_on: date
    ) -> Outcome[Vendor]:
        stream = await self.vendor_stream(meta.tenant, invoice_id)
        command = RejectInvoice(
            vendor_id=_vendor_of(stream),
            invoice_id=invoice_id,
            reason=reason,
            rejected_by=meta.actor or "",
            rejected_on=rejected_on,
            rejected_at=self.now(),
        )
        return await self.decide(stream, vendor, command, meta)

    async def void(
        self, meta: Metadata, invoice_id: str, *, reason: str, voided_on: date
    ) -> Outcome[Vendor]:
        stream = await self.vendor_stream(meta.tenant, invoice_id)
        command = VoidInvoice(
            vendor_id=_vendor_of(stream),
            invoice_id=invoice_id,
            reason=reason,
            voided_by=meta.actor or "",
            voided_on=voided_on,
            voided_at=self.now(),
        )
        return await self.decide(stream, vendor, command, meta)

    # ------------------------------------------------------------------------- payment runs

    async def _vendors(self, tenant: str) -> list[Vendor]:
        found = await self._handler.store.streams_tagged(streams.vendors_tag(tenant))
        return [await self.state(stream, vendor) for stream in found]

    async def start_run(self, meta: Metadata, *, run_id: str, pay_on: date) -> Outcome[Any]:
        """Schedule the approved invoices due by `pay_on` in run `run_id`, then start it. With
        the same id again (a crash midway), the invoices already scheduled in it are kept and
        nothing is scheduled twice."""
        tenant = meta.tenant
        started = await self.state(streams.payment_run(tenant, run_id), payment_run)
        if started.abandoned:
            raise Rejected(f"payment run {run_id} was abandoned")
        if started.exists:
            pay_on, vendors = started.pay_on or pay_on, []
        else:
            vendors = await self._vendors(tenant)
        already = [
            _run_invoice(v, i.invoice_id)
            for v in vendors
            for i in v.invoices.values()
            if i.run_id == run_id
        ]
        scheduled = list(started.invoices if started.exists else already)
        for chosen in pick(vendors, pay_on):
            command = ScheduleInvoice(
                vendor_id=chosen.vendor_id,
                invoice_id=chosen.invoice_id,
                run_id=run_id,
                scheduled_at=self.now(),
            )
            try:
                await self.decide(streams.vendor(tenant, chosen.vendor_id), vendor, command, meta)
            except Rejected:
                continue  # another run took it meanwhile: not this run's
            scheduled.append(chosen)
        invoices = tuple(sorted(scheduled, key=lambda i: (i.due_on, i.vendor_id, i.invoice_id)))
        start = StartPaymentRun(
            run_id=run_id,
            pay_on=pay_on,
            invoices=invoices,
            started_by=meta.actor or "",
            started_at=self.now(),
        )
        try:
            return await self.decide(streams.payment_run(tenant, run_id), payment_run, start, meta)
        except Rejected:
            # Abandoned while this call scheduled: what it scheduled after the abandonment
            # released the run's invoices would stay scheduled in a dead run. Released here;
            # a crash before that is mended by abandoning again (it finds them by their run).
            if (await self.state(streams.payment_run(tenant, run_id), payment_run)).abandoned:
                await self._release(meta, run_id, invoices)
            raise

    async def run(self, tenant: str, run_id: str) -> PaymentRun:
        """A started run (409 once abandoned, 404 if it never started)."""
        found = await self.state(streams.payment_run(tenant, run_id), payment_run)
        if found.abandoned:
            raise Rejected(f"payment run {run_id} was abandoned")
        if not found.exists:
            raise NotFound(f"payment run {run_id} not found")
        return found

    async def what_became_of(self, tenant: str, run_id: str) -> dict[str, Any]:
        """A run's state and each of its invoices': scheduled in it, paid by it, or released
        when it was abandoned. A run that crashed before it started is found by the
        invoices scheduled in it (every vendor's stream is read)."""
        run = await self.state(streams.payment_run(tenant, run_id), payment_run)
        invoices = run.invoices if run.exists else await self._scheduled_in(tenant, run_id)
        if not invoices and not run.abandoned:
            raise NotFound(f"payment run {run_id} not found")
        states = await self._vendor_states(tenant, invoices)
        shown = []
        for owed in invoices:
            invoice = states[owed.vendor_id].invoice(owed.invoice_id)
            shown.append({**owed.model_dump(mode="json"), "status": _in_run(invoice, run_id)})
        return {
            "run_id": run_id,
            "state": run.state,
            "pay_on": None if run.pay_on is None else run.pay_on.isoformat(),
            "invoices": shown,
            "total_cents": sum(owed.amount_cents for owed in invoices),
            "completed": run.completed,
        }

    async def abandon_run(self, meta: Metadata, run_id: str) -> Outcome[PaymentRun]:
        """Give the run up (started or not, after a crash): record it on the run first, so
        it neither starts nor completes any more, then release each of its invoices not paid
        back to approved. Again (after a crash midway) it releases what is left."""
        tenant = meta.tenant
        stream = streams.payment_run(tenant, run_id)
        run = await self.state(stream, payment_run)
        invoices = run.invoices if run.exists else await self._scheduled_in(tenant, run_id)
        if not invoices and not run.exists and not run.abandoned:
            raise NotFound(f"payment run {run_id} not found")
        abandon = AbandonPaymentRun(
            run_id=run_id, abandoned_by=meta.actor or "", abandoned_at=self.now()
        )
        outcome = await self.decide(stream, payment_run, abandon, meta)
        await self._release(meta, run_id, invoices)
        return outcome

    async def _release(self, meta: Metadata, run_id: str, invoices: Sequence[RunInvoice]) -> None:
        """Each invoice back to approved, unless paid or not (any more) in the run."""
        for owed in invoices:
            release = ReleaseInvoice(
                vendor_id=owed.vendor_id,
                invoice_id=owed.invoice_id,
                run_id=run_id,
                released_at=self.now(),
            )
            await self.decide(streams.vendor(meta.tenant, owed.vendor_id), vendor, release, meta)

    async def _scheduled_in(self, tenant: str, run_id: str) -> tuple[RunInvoice, ...]:
        """The invoices scheduled in a run that never started (or released from it)."""
        found = [
            _run_invoice(v, i.invoice_id)
            for v in await self._vendors(tenant)
            for i in v.invoices.values()
            if i.run_id == run_id or run_id in i.released_from
        ]
        return tuple(sorted(found, key=lambda i: (i.due_on, i.vendor_id, i.invoice_id)))

    async def complete_run(self, meta: Metadata, run_id: str) -> Outcome[PaymentRun]:
        """Pay each invoice of the run not yet paid by it, on its vendor's stream, then close
        the run: completing again (or after a crash) pays nothing twice."""
        tenant = meta.tenant
        run = await self.run(tenant, run_id)
        assert run.pay_on is not None
        paid_by = await self._paid_by(tenant, run.invoices)
        for owed in still_to_pay(run, paid_by):
            command = PayInvoice(
                vendor_id=owed.vendor_id,
                invoice_id=owed.invoice_id,
                run_id=run_id,
                paid_on=run.pay_on,
                paid_at=self.now(),
            )
            await self.decide(streams.vendor(tenant, owed.vendor_id), vendor, command, meta)
        paid_by = await self._paid_by(tenant, run.invoices)
        complete = CompletePaymentRun(
            run_id=run_id,
            paid_invoice_ids=tuple(i for i, by in paid_by.items() if by == run_id),
            completed_at=self.now(),
        )
        return await self.decide(streams.payment_run(tenant, run_id), payment_run, complete, meta)

    async def _vendor_states(
        self, tenant: str, invoices: Sequence[RunInvoice]
    ) -> dict[str, Vendor]:
        """The vendors of these invoices, each vendor's stream loaded once."""
        return {
            vendor_id: await self.state(streams.vendor(tenant, vendor_id), vendor)
            for vendor_id in sorted({owed.vendor_id for owed in invoices})
        }

    async def _paid_by(self, tenant: str, invoices: Sequence[RunInvoice]) -> dict[str, str | None]:
        """Which run paid each invoice (None: not paid), each vendor's stream loaded once."""
        states = await self._vendor_states(tenant, invoices)
        return {
            owed.invoice_id: states[owed.vendor_id].invoice(owed.invoice_id).paid_by_run
            for owed in invoices
        }


def _in_run(invoice: Invoice, run_id: str) -> str:
    """What became of an invoice of the run: paid by it, still scheduled in it, or released."""
    if invoice.paid_by_run == run_id:
        return "paid"
    return "scheduled" if invoice.run_id == run_id else "released"


def _vendor_of(stream: str) -> str:
    return stream.rsplit(":", 1)[1]


def _run_invoice(found: Vendor, invoice_id: str) -> RunInvoice:
    invoice = found.invoice(invoice_id)
    return RunInvoice(
        vendor_id=found.vendor_id,
        invoice_id=invoice_id,
        amount_cents=invoice.total_cents,
        due_on=invoice.due_on,
    )
