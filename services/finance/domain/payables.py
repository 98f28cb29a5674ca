"""Accounts payable: a vendor and every invoice it sends, on `streams.vendor(tenant,
vendor_id)`, so that each rule about an invoice is decided in one stream.

An invoice is received (entered) with lines coded to expense accounts and sites; it falls due
`terms` after its invoice date (the vendor's terms unless the invoice prints others). Then:

    received -> approved (1 approval; 2 from different people over the second-approval limit)
             -> scheduled (in one payment run) -> paid (by that run, once)
             scheduled -> approved again (released: its run was abandoned before paying it)
    received or approved -> rejected;  anything but paid or scheduled -> voided

Rules:
- A duplicate (same vendor, invoice number and amount as an invoice not voided) is refused,
  naming the first invoice's id. Invoice numbers compare without case, spaces or dashes.
- Nobody approves an invoice they entered; over `second_approval_over_cents` an invoice needs
  two approvals from two different people.
- An invoice is in at most one open run: scheduling it in a second is refused until paid.
- An invoice is paid once: paying it again for the same run records nothing (a rerun after a
  crash), for another run is refused.
- Repeating a step already taken by the same person or run records nothing (a retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.finance.domain.accounts import Chart
from services.finance.domain.events import (
    InvoiceApproved,
    InvoiceLine,
    InvoicePaid,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceReleasedFromRun,
    InvoiceScheduledForPayment,
    InvoiceVoided,
    Terms,
    VendorRegistered,
)
from shared.domain import Command, Decider, Forbidden, Invalid, NotFound, Rejected
from shared.events import DomainEvent

# Over this total an invoice needs a second approver, unless the use case passes another limit.
SECOND_APPROVAL_OVER_CENTS = 500_000  # $5,000.00

TERMS_DAYS: Mapping[str, int] = MappingProxyType(
    {
        "due_on_receipt": 0,
        "net_10": 10,
        "net_15": 15,
        "net_30": 30,
        "net_45": 45,
        "net_60": 60,
        "net_90": 90,
    }
)


def due_on(invoice_date: date, terms: Terms) -> date:
    """When an invoice falls due: its date plus the terms' days (net 30: 30 days after)."""
    return invoice_date + timedelta(days=TERMS_DAYS[terms])


def normalised_number(invoice_number: str) -> str:
    """An invoice number as duplicates are compared: "inv-0042 " is "INV0042"."""
    return "".join(ch for ch in invoice_number.upper() if ch.isalnum())


class Invoice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice_id: str
    invoice_number: str
    invoice_date: date
    received_on: date
    due_on: date
    lines: tuple[InvoiceLine, ...]
    total_cents: int
    received_by: str
    approvals_needed: int
    approvers: tuple[str, ...] = ()
    rejected: bool = False
    voided: bool = False
    run_id: str | None = None  # the run it is scheduled in, or was paid by
    paid_by_run: str | None = None
    released_from: tuple[str, ...] = ()  # abandoned runs it was scheduled in

    @property
    def approved(self) -> bool:
        return len(self.approvers) >= self.approvals_needed

    @property
    def paid(self) -> bool:
        return self.paid_by_run is not None

    @property
    def payable(self) -> bool:
        """Approved, and neither rejected, voided, paid nor in a run: a run may pick it."""
        return (
            self.approved
            and not (self.rejected or self.voided or self.paid)
            and self.run_id is None
        )


def _no_invoices() -> Mapping[str, Invoice]:
    return MappingProxyType({})


class Vendor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    vendor_id: str = ""
    name: str = ""
    terms: Terms = "net_30"
    invoices: Mapping[str, Invoice] = Field(default_factory=_no_invoices)

    @property
    def exists(self) -> bool:
        return bool(self.vendor_id)

    def invoice(self, invoice_id: str) -> Invoice:
        found = self.invoices.get(invoice_id)
        if found is None:
            raise NotFound(f"invoice {invoice_id} of vendor {self.vendor_id} does not exist")
        return found

    def duplicate_of(self, invoice_number: str, total_cents: int) -> Invoice | None:
        number = normalised_number(invoice_number)
        for invoice in self.invoices.values():
            if (
                not invoice.voided
                and normalised_number(invoice.invoice_number) == number
                and invoice.total_cents == total_cents
            ):
                return invoice
        return None


# ----------------------------------------------------------------------------- commands


class RegisterVendor(Command):
    vendor_id: str
    name: str
    tax_id: str  # plaintext here: the use case's vault seals the event's `Phi` field
    terms: Terms = "net_30"
    registered_by: str
    registered_at: AwareDatetime


class ReceiveInvoice(Command):
    vendor_id: str
    invoice_id: str
    invoice_number: str
    invoice_date: date
    received_on: date
    terms: Terms | None = None  # None: the vendor's
    lines: tuple[InvoiceLine, ...]
    chart: Chart
    second_approval_over_cents: int = SECOND_APPROVAL_OVER_CENTS
    received_by: str
    received_at: AwareDatetime


class ApproveInvoice(Command):
    vendor_id: str
    invoice_id: str
    approved_by: str
    approved_at: AwareDatetime


class RejectInvoice(Command):
    vendor_id: str
    invoice_id: str
    reason: str
    rejected_by: str
    rejected_on: date
    rejected_at: AwareDatetime


class ScheduleInvoice(Command):
    vendor_id: str
    invoice_id: str
    run_id: str
    scheduled_at: AwareDatetime


class PayInvoice(Command):
    vendor_id: str
    invoice_id: str
    run_id: str
    paid_on: date
    paid_at: AwareDatetime


class ReleaseInvoice(Command):
    """Take an invoice back out of an abandoned run (nothing when it is not in that run)."""

    vendor_id: str
    invoice_id: str
    run_id: str
    released_at: AwareDatetime


class VoidInvoice(Command):
    vendor_id: str
    invoice_id: str
    reason: str
    voided_by: str
    voided_on: date
    voided_at: AwareDatetime


VendorCommand = (
    RegisterVendor
    | ReceiveInvoice
    | ApproveInvoice
    | RejectInvoice
    | ScheduleInvoice
    | PayInvoice
    | ReleaseInvoice
    | VoidInvoice
)


# ----------------------------------------------------------------------------- evolve


def _with(state: Vendor, invoice: Invoice) -> Vendor:
    invoices = MappingProxyType({**state.invoices, invoice.invoice_id: invoice})
    return state.model_copy(update={"invoices": invoices})


def _evolve(state: Vendor, event: DomainEvent) -> Vendor:
    if isinstance(event, VendorRegistered):
        return state.model_copy(
            update={"vendor_id": event.vendor_id, "name": event.name, "terms": event.terms}
        )
    if isinstance(event, InvoiceReceived):
        invoice = Invoice(
            invoice_id=event.invoice_id,
            invoice_number=event.invoice_number,
            invoice_date=event.invoice_date,
            received_on=event.received_on,
            due_on=event.due_on,
            lines=event.lines,
            total_cents=event.total_cents,
            received_by=event.received_by,
            approvals_needed=event.approvals_needed,
        )
        return _with(state, invoice)
    if isinstance(
        event,
        InvoiceApproved
        | InvoiceRejected
        | InvoiceScheduledForPayment
        | InvoicePaid
        | InvoiceReleasedFromRun
        | InvoiceVoided,
    ):
        invoice = state.invoices[event.invoice_id]
        return _with(state, _evolve_invoice(invoice, event))
    return state


def _evolve_invoice(invoice: Invoice, event: DomainEvent) -> Invoice:
    if isinstance(event, InvoiceApproved):
        return invoice.model_copy(update={"approvers": (*invoice.approvers, event.approved_by)})
    if isinstance(event, InvoiceRejected):
        return invoice.model_copy(update={"rejected": True})
    if isinstance(event, InvoiceScheduledForPayment):
        return invoice.model_copy(update={"run_id": event.run_id})
    if isinstance(event, InvoicePaid):
        return invoice.model_copy(update={"paid_by_run": event.run_id})
    if isinstance(event, InvoiceReleasedFromRun):
        released = (*invoice.released_from, event.run_id)
        return invoice.model_copy(update={"run_id": None, "released_from": released})
    return invoice.model_copy(update={"voided": True})


# ----------------------------------------------------------------------------- decide


def _register(state: Vendor, command: RegisterVendor) -> list[DomainEvent]:
    if not command.name.strip() or not command.tax_id.strip():
        raise Invalid("a vendor needs a name and a tax id")
    if state.exists:
        if (state.name, state.terms) == (command.name, command.terms):
            return []
        raise Rejected(f"vendor {command.vendor_id} is already registered")
    return [
        VendorRegistered(
            vendor_id=command.vendor_id,
            name=command.name,
            tax_id=command.tax_id,
            terms=command.terms,
            registered_by=command.registered_by,
            registered_at=command.registered_at,
        )
    ]


def _check_lines(lines: tuple[InvoiceLine, ...], chart: Chart) -> None:
    if not lines:
        raise Invalid("an invoice needs at least one line")
    for number, line in enumerate(lines, start=1):
        account = chart.account(line.account_code)
        if account.kind != "expense":
            raise Invalid(f"line {number}: account {account.code} is not an expense account")
        chart.check_site(line.site_id)
        if line.amount_cents <= 0:
            raise Invalid(f"line {number}: an amount must be more than zero")


def _receive(state: Vendor, command: ReceiveInvoice) -> list[DomainEvent]:
    if not state.exists:
        raise NotFound(f"vendor {command.vendor_id} is not registered")
    if not command.invoice_number.strip() or not normalised_number(command.invoice_number):
        raise Invalid("an invoice needs the vendor's invoice number")
    _check_lines(command.lines, command.chart)
    total = sum(line.amount_cents for line in command.lines)
    if command.received_on < command.invoice_date:
        raise Invalid("an invoice is not received before its date")
    earlier = state.invoices.get(command.invoice_id)
    if earlier is not None:
        if (earlier.invoice_number, earlier.total_cents) == (command.invoice_number, total):
            return []  # the same entry again (a retry)
        raise Rejected(f"invoice {command.invoice_id} already exists")
    duplicate = state.duplicate_of(command.invoice_number, total)
    if duplicate is not None:
        raise Rejected(
            f"a duplicate of invoice {duplicate.invoice_id} (vendor {command.vendor_id}, "
            f"number {duplicate.invoice_number}, the same amount)"
        )
    terms = command.terms or state.terms
    return [
        InvoiceReceived(
            vendor_id=command.vendor_id,
            invoice_id=command.invoice_id,
            invoice_number=command.invoice_number,
            invoice_date=command.invoice_date,
            received_on=command.received_on,
            terms=terms,
            due_on=due_on(command.invoice_date, terms),
            lines=command.lines,
            total_cents=total,
            approvals_needed=2 if total > command.second_approval_over_cents else 1,
            received_by=command.received_by,
            received_at=command.received_at,
        )
    ]


def _open(invoice: Invoice, doing: str) -> None:
    if invoice.voided:
        raise Rejected(f"invoice {invoice.invoice_id} is voided: not {doing}")
    if invoice.rejected:
        raise Rejected(f"invoice {invoice.invoice_id} was rejected: not {doing}")


def _approve(state: Vendor, command: ApproveInvoice) -> list[DomainEvent]:
    invoice = state.invoice(command.invoice_id)
    if command.approved_by == invoice.received_by:
        raise Forbidden(f"{command.approved_by} entered invoice {invoice.invoice_id}: not theirs")
    if command.approved_by in invoice.approvers:
        if invoice.approved:
            return []
        raise Rejected(
            f"{command.approved_by} has approved invoice {invoice.invoice_id}: over the limit "
            "a second, different approver is needed"
        )
    _open(invoice, "approved")
    if invoice.approved:
        raise Rejected(f"invoice {invoice.invoice_id} is already approved")
    return [
        InvoiceApproved(
            vendor_id=command.vendor_id,
            invoice_id=invoice.invoice_id,
            approved_by=command.approved_by,
            approvals_given=len(invoice.approvers) + 1,
            approvals_needed=invoice.approvals_needed,
            approved_at=command.approved_at,
        )
    ]


def _reject(state: Vendor, command: RejectInvoice) -> list[DomainEvent]:
    invoice = state.invoice(command.invoice_id)
    if invoice.rejected:
        return []
    _open(invoice, "rejected")
    if invoice.paid or invoice.run_id is not None:
        raise Rejected(f"invoice {invoice.invoice_id} is in payment run {invoice.run_id}")
    if not command.reason.strip():
        raise Invalid("a rejection needs a reason")
    return [
        InvoiceRejected(
            vendor_id=command.vendor_id,
            invoice_id=invoice.invoice_id,
            reason=command.reason,
            rejected_by=command.rejected_by,
            rejected_on=command.rejected_on,
            rejected_at=command.rejected_at,
        )
    ]


def _schedule(state: Vendor, command: ScheduleInvoice) -> list[DomainEvent]:
    invoice = state.invoice(command.invoice_id)
    if invoice.run_id == command.run_id:
        return []
    if invoice.paid:
        raise Rejected(f"invoice {invoice.invoice_id} is paid (run {invoice.paid_by_run})")
    if invoice.run_id is not None:
        raise Rejected(f"invoice {invoice.invoice_id} is in open payment run {invoice.run_id}")
    _open(invoice, "scheduled")
    if not invoice.approved:
        raise Rejected(f"invoice {invoice.invoice_id} is not approved")
    return [
        InvoiceScheduledForPayment(
            vendor_id=command.vendor_id,
            invoice_id=invoice.invoice_id,
            run_id=command.run_id,
            scheduled_at=command.scheduled_at,
        )
    ]


def _pay(state: Vendor, command: PayInvoice) -> list[DomainEvent]:
    invoice = state.invoice(command.invoice_id)
    if invoice.paid_by_run == command.run_id:
        return []  # paid by this run already: a rerun pays nothing twice
    if invoice.paid:
        raise Rejected(f"invoice {invoice.invoice_id} is already paid by run {invoice.paid_by_run}")
    if invoice.run_id != command.run_id:
        raise Rejected(f"invoice {invoice.invoice_id} is not in payment run {command.run_id}")
    return [
        InvoicePaid(
            vendor_id=command.vendor_id,
            invoice_id=invoice.invoice_id,
            run_id=command.run_id,
            amount_cents=invoice.total_cents,
            paid_on=command.paid_on,
            paid_at=command.paid_at,
        )
    ]


def _release(state: Vendor, command: ReleaseInvoice) -> list[DomainEvent]:
    invoice = state.invoice(command.invoice_id)
    if invoice.run_id != command.run_id or invoice.paid:
        return []  # released already, or paid by it: nothing to take back
    return [
        InvoiceReleasedFromRun(
            vendor_id=command.vendor_id,
            invoice_id=invoice.invoice_id,
            run_id=command.run_id,
            released_at=command.released_at,
        )
    ]


def _void(state: Vendor, command: VoidInvoice) -> list[DomainEvent]:
    invoice = state.invoice(command.invoice_id)
    if invoice.voided:
        return []
    if invoice.paid:
        raise Rejected(f"invoice {invoice.invoice_id} is paid: a paid invoice is not voided")
    if invoice.run_id is not None:
        raise Rejected(f"invoice {invoice.invoice_id} is in payment run {invoice.run_id}")
    if not command.reason.strip():
        raise Invalid("a void needs a reason")
    return [
        InvoiceVoided(
            vendor_id=command.vendor_id,
            invoice_id=invoice.invoice_id,
            reason=command.reason,
            voided_by=command.voided_by,
            voided_on=command.voided_on,
            voided_at=command.voided_at,
        )
    ]


def _decide(state: Vendor, command: VendorCommand) -> list[DomainEvent]:
    if isinstance(command, RegisterVendor):
        return _register(state, command)
    if not state.exists:
        raise NotFound(f"vendor {command.vendor_id} is not registered")
    if isinstance(command, ReceiveInvoice):
        return _receive(state, command)
    if isinstance(command, ApproveInvoice):
        return _approve(state, command)
    if isinstance(command, RejectInvoice):
        return _reject(state, command)
    if isinstance(command, ScheduleInvoice):
        return _schedule(state, command)
    if isinstance(command, PayInvoice):
        return _pay(state, command)
    if isinstance(command, ReleaseInvoice):
        return _release(state, command)
    return _void(state, command)


vendor: Decider[Vendor, VendorCommand] = Decider(Vendor(), _evolve, _decide)
