"""Payment runs, on `streams.payment_run(tenant, run_id)`: a run pays approved invoices due by
its pay date, each once.

How a run goes (the use case drives it; each step is decided in one stream):
1. `pick` chooses, from the vendors' invoices, the payable ones due by the pay date.
2. Each is scheduled on its vendor's stream (`payables.ScheduleInvoice`): one already in
   another open run is refused there and left out.
3. `StartPaymentRun` records the run with the invoices scheduled in it.
4. Each invoice of the run is paid on its vendor's stream (`payables.PayInvoice`, which records
   nothing for an invoice this run paid already), then `CompletePaymentRun` closes the run.

A crash anywhere is mended by running the same steps again with the same run id: scheduling,
starting, paying and completing all record nothing the second time, so no invoice is paid
twice (`still_to_pay` names what a rerun has left to pay).

Or the run is given up instead (`AbandonPaymentRun`, started or not, not once completed):
`PaymentRunAbandoned` on its stream first, so that it neither starts nor completes any more,
then each invoice scheduled in it and not paid is released on its vendor's stream
(`payables.ReleaseInvoice`), approved again for another run. Abandoning again (after a crash
midway) records nothing on the run and releases what is still in it.

What became of a run (`state`): "scheduling" (invoices scheduled in it, never started: a
crash before step 3), "started", "completed" or "abandoned".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.finance.domain.events import (
    PaymentRunAbandoned,
    PaymentRunCompleted,
    PaymentRunStarted,
    RunInvoice,
)
from services.finance.domain.payables import Vendor
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent


def pick(vendors: Iterable[Vendor], pay_on: date) -> tuple[RunInvoice, ...]:
    """The payable invoices (approved, unpaid, in no run, neither rejected nor voided) due on or
    before `pay_on`, oldest due first, then by vendor and invoice."""
    chosen = [
        RunInvoice(
            vendor_id=vendor.vendor_id,
            invoice_id=invoice.invoice_id,
            amount_cents=invoice.total_cents,
            due_on=invoice.due_on,
        )
        for vendor in vendors
        for invoice in vendor.invoices.values()
        if invoice.payable and invoice.due_on <= pay_on
    ]
    return tuple(sorted(chosen, key=lambda i: (i.due_on, i.vendor_id, i.invoice_id)))


class PaymentRun(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = ""
    pay_on: date | None = None
    invoices: tuple[RunInvoice, ...] = ()
    completed: bool = False
    abandoned: bool = False

    @property
    def exists(self) -> bool:
        """Started (an abandoned run that never started does not exist)."""
        return self.pay_on is not None

    @property
    def state(self) -> str:
        if self.abandoned:
            return "abandoned"
        if self.completed:
            return "completed"
        return "started" if self.exists else "scheduling"

    @property
    def total_cents(self) -> int:
        return sum(invoice.amount_cents for invoice in self.invoices)


class StartPaymentRun(Command):
    run_id: str
    pay_on: date
    invoices: tuple[RunInvoice, ...]  # those scheduled in this run on their vendors' streams
    started_by: str
    started_at: AwareDatetime


class CompletePaymentRun(Command):
    run_id: str
    paid_invoice_ids: tuple[str, ...]  # the run's invoices its vendors' streams show it paid
    completed_at: AwareDatetime


class AbandonPaymentRun(Command):
    run_id: str
    abandoned_by: str
    abandoned_at: AwareDatetime


PaymentRunCommand = StartPaymentRun | CompletePaymentRun | AbandonPaymentRun


def still_to_pay(run: PaymentRun, paid_by: Mapping[str, str | None]) -> tuple[RunInvoice, ...]:
    """The run's invoices not yet paid by it, given which run (or None) paid each invoice: what
    a rerun after a crash has left to pay. An invoice another run paid is not this run's to
    pay (its vendor's stream would refuse it anyway)."""
    return tuple(i for i in run.invoices if paid_by.get(i.invoice_id) is None)


def _evolve(state: PaymentRun, event: DomainEvent) -> PaymentRun:
    if isinstance(event, PaymentRunStarted):
        return PaymentRun(run_id=event.run_id, pay_on=event.pay_on, invoices=event.invoices)
    if isinstance(event, PaymentRunCompleted):
        return state.model_copy(update={"completed": True})
    if isinstance(event, PaymentRunAbandoned):
        return state.model_copy(update={"run_id": event.run_id, "abandoned": True})
    return state


def _start(state: PaymentRun, command: StartPaymentRun) -> list[DomainEvent]:
    if state.abandoned:
        raise Rejected(f"payment run {command.run_id} was abandoned")
    ids = [invoice.invoice_id for invoice in command.invoices]
    if len(ids) != len(set(ids)):
        raise Invalid("an invoice is listed twice in one run")
    late = [i.invoice_id for i in command.invoices if i.due_on > command.pay_on]
    if late:
        raise Invalid(f"invoice {late[0]} is not due by {command.pay_on.isoformat()}")
    if state.exists:
        if (state.pay_on, state.invoices) == (command.pay_on, command.invoices):
            return []
        raise Rejected(f"payment run {command.run_id} has started already")
    if not command.invoices:
        raise Rejected(f"nothing is due by {command.pay_on.isoformat()}: no run to start")
    return [
        PaymentRunStarted(
            run_id=command.run_id,
            pay_on=command.pay_on,
            invoices=command.invoices,
            total_cents=sum(i.amount_cents for i in command.invoices),
            started_by=command.started_by,
            started_at=command.started_at,
        )
    ]


def _complete(state: PaymentRun, command: CompletePaymentRun) -> list[DomainEvent]:
    if state.abandoned:
        raise Rejected(f"payment run {command.run_id} was abandoned")
    if not state.exists:
        raise NotFound(f"payment run {command.run_id} does not exist")
    if state.completed:
        return []
    paid = set(command.paid_invoice_ids)
    unpaid = [i.invoice_id for i in state.invoices if i.invoice_id not in paid]
    if unpaid:
        raise Rejected(f"invoice {unpaid[0]} of run {command.run_id} is not paid yet")
    return [
        PaymentRunCompleted(
            run_id=command.run_id,
            paid=len(state.invoices),
            total_cents=state.total_cents,
            completed_at=command.completed_at,
        )
    ]


def _abandon(state: PaymentRun, command: AbandonPaymentRun) -> list[DomainEvent]:
    if state.abandoned:
        return []
    if state.completed:
        raise Rejected(f"payment run {command.run_id} is completed: it is not abandoned")
    return [
        PaymentRunAbandoned(
            run_id=command.run_id,
            abandoned_by=command.abandoned_by,
            abandoned_at=command.abandoned_at,
        )
    ]


def _decide(state: PaymentRun, command: PaymentRunCommand) -> list[DomainEvent]:
    if isinstance(command, StartPaymentRun):
        return _start(state, command)
    if isinstance(command, AbandonPaymentRun):
        return _abandon(state, command)
    return _complete(state, command)


payment_run: Decider[PaymentRun, PaymentRunCommand] = Decider(PaymentRun(), _evolve, _decide)
