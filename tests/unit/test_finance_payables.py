"""Given these events, when this command, then these events: a vendor and its invoices (one
stream): duplicates, approvals, scheduling, paying once, voids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.finance.domain.accounts import DEFAULT_ACCOUNTS, Chart, cost_centres_for
from services.finance.domain.events import (
    InvoiceApproved,
    InvoiceLine,
    InvoicePaid,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceScheduledForPayment,
    InvoiceVoided,
    Terms,
    VendorRegistered,
)
from services.finance.domain.payables import (
    ApproveInvoice,
    PayInvoice,
    ReceiveInvoice,
    RegisterVendor,
    RejectInvoice,
    ScheduleInvoice,
    VendorCommand,
    VoidInvoice,
    due_on,
    normalised_number,
    vendor,
)
from shared.domain import Forbidden, Invalid, NotFound, Rejected
from shared.events import DomainEvent

T0 = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
CHART = Chart(accounts=DEFAULT_ACCOUNTS, cost_centres=cost_centres_for(["north", "south"]))
REGISTERED = VendorRegistered(
    vendor_id="v1",
    name="Acme Medical Supply",
    tax_id="12-3456789",
    terms="net_30",
    registered_by="fin1",
    registered_at=T0,
)
GLOVES = InvoiceLine(account_code="5200", site_id="north", amount_cents=120_000)
MASKS = InvoiceLine(account_code="5200", site_id="south", amount_cents=30_050)
MRI = InvoiceLine(account_code="5400", site_id="north", amount_cents=4_500_000)


def decide(given: Sequence[DomainEvent], command: VendorCommand) -> list[DomainEvent]:
    return list(vendor.decide(vendor.fold(given), command))


def receive(
    *lines: InvoiceLine,
    invoice_id: str = "i1",
    number: str = "INV-001",
    terms: Terms | None = None,
    received_by: str = "clerk",
) -> ReceiveInvoice:
    return ReceiveInvoice(
        vendor_id="v1",
        invoice_id=invoice_id,
        invoice_number=number,
        invoice_date=date(2026, 7, 1),
        received_on=date(2026, 7, 6),
        terms=terms,
        lines=lines or (GLOVES, MASKS),
        chart=CHART,
        received_by=received_by,
        received_at=T0,
    )


def received(
    *lines: InvoiceLine, invoice_id: str = "i1", number: str = "INV-001"
) -> InvoiceReceived:
    [event] = decide([REGISTERED], receive(*lines, invoice_id=invoice_id, number=number))
    assert isinstance(event, InvoiceReceived)
    return event


def approve(by: str, invoice_id: str = "i1") -> ApproveInvoice:
    return ApproveInvoice(vendor_id="v1", invoice_id=invoice_id, approved_by=by, approved_at=T0)


def approval(by: str, given: int, needed: int, invoice_id: str = "i1") -> InvoiceApproved:
    return InvoiceApproved(
        vendor_id="v1",
        invoice_id=invoice_id,
        approved_by=by,
        approvals_given=given,
        approvals_needed=needed,
        approved_at=T0,
    )


def schedule(run_id: str, invoice_id: str = "i1") -> ScheduleInvoice:
    return ScheduleInvoice(vendor_id="v1", invoice_id=invoice_id, run_id=run_id, scheduled_at=T0)


def scheduled(run_id: str, invoice_id: str = "i1") -> InvoiceScheduledForPayment:
    return InvoiceScheduledForPayment(
        vendor_id="v1", invoice_id=invoice_id, run_id=run_id, scheduled_at=T0
    )


def pay(run_id: str, invoice_id: str = "i1") -> PayInvoice:
    return PayInvoice(
        vendor_id="v1", invoice_id=invoice_id, run_id=run_id, paid_on=date(2026, 7, 31), paid_at=T0
    )


def void(invoice_id: str = "i1") -> VoidInvoice:
    return VoidInvoice(
        vendor_id="v1",
        invoice_id=invoice_id,
        reason="entered twice by mistake",
        voided_by="fin1",
        voided_on=date(2026, 7, 7),
        voided_at=T0,
    )


APPROVED = [REGISTERED, received(), approval("m1", 1, 1)]


# ----------------------------------------------------------------------------- vendors


def test_a_vendor_is_registered_with_its_tax_id_to_be_sealed() -> None:
    command = RegisterVendor(
        vendor_id="v1",
        name="Acme Medical Supply",
        tax_id="12-3456789",
        registered_by="fin1",
        registered_at=T0,
    )
    assert decide([], command) == [REGISTERED]
    assert VendorRegistered.phi_field_names() == ("tax_id",)
    assert VendorRegistered.phi_subject == "vendor_id"
    assert decide([REGISTERED], command) == []
    with pytest.raises(Rejected, match="already registered"):
        decide([REGISTERED], command.model_copy(update={"name": "Acme"}))
    with pytest.raises(Invalid, match="a name and a tax id"):
        decide([], command.model_copy(update={"tax_id": " "}))


def test_an_unregistered_vendor_sends_no_invoice() -> None:
    with pytest.raises(NotFound, match="vendor v1 is not registered"):
        decide([], receive())


# ----------------------------------------------------------------------------- receiving


def test_an_invoice_is_received_due_by_the_vendor_s_terms() -> None:
    [event] = decide([REGISTERED], receive())
    assert event == InvoiceReceived(
        vendor_id="v1",
        invoice_id="i1",
        invoice_number="INV-001",
        invoice_date=date(2026, 7, 1),
        received_on=date(2026, 7, 6),
        terms="net_30",
        due_on=date(2026, 7, 31),
        lines=(GLOVES, MASKS),
        total_cents=150_050,
        approvals_needed=1,
        received_by="clerk",
        received_at=T0,
    )


@pytest.mark.parametrize(
    ("terms", "due"),
    [
        ("due_on_receipt", date(2026, 7, 1)),
        ("net_10", date(2026, 7, 11)),
        ("net_45", date(2026, 8, 15)),
        ("net_60", date(2026, 8, 30)),
        ("net_90", date(2026, 9, 29)),
    ],
)
def test_terms_printed_on_an_invoice_set_its_due_date(terms: Terms, due: date) -> None:
    assert due_on(date(2026, 7, 1), terms) == due
    [event] = decide([REGISTERED], receive(terms=terms))
    assert isinstance(event, InvoiceReceived)
    assert (event.terms, event.due_on) == (terms, due)


@pytest.mark.parametrize(
    ("line", "error", "problem"),
    [
        (
            InvoiceLine(account_code="4100", site_id="north", amount_cents=1),
            Invalid,
            "not an expense",
        ),
        (InvoiceLine(account_code="9999", site_id="north", amount_cents=1), NotFound, "9999"),
        (InvoiceLine(account_code="5200", site_id="east", amount_cents=1), NotFound, "site east"),
        (
            InvoiceLine(account_code="5200", site_id="north", amount_cents=0),
            Invalid,
            "line 2: an amount",
        ),
    ],
)
def test_lines_are_coded_to_expense_accounts_and_sites(
    line: InvoiceLine, error: type[Exception], problem: str
) -> None:
    with pytest.raises(error, match=problem):
        decide([REGISTERED], receive(GLOVES, line))


def test_an_invoice_needs_a_number_and_lines_and_a_date_before_receipt() -> None:
    with pytest.raises(Invalid, match="invoice number"):
        decide([REGISTERED], receive(number=" - "))
    with pytest.raises(Invalid, match="at least one line"):
        decide([REGISTERED], receive().model_copy(update={"lines": ()}))
    with pytest.raises(Invalid, match="not received before its date"):
        decide([REGISTERED], receive().model_copy(update={"received_on": date(2026, 6, 30)}))


def test_receiving_the_same_entry_again_records_nothing() -> None:
    assert decide([REGISTERED, received()], receive()) == []
    with pytest.raises(Rejected, match="invoice i1 already exists"):
        decide([REGISTERED, received()], receive(MRI))


# ----------------------------------------------------------------------------- duplicates


def test_a_duplicate_is_refused_naming_the_first() -> None:
    given = [REGISTERED, received()]
    with pytest.raises(Rejected, match="a duplicate of invoice i1") as refused:
        decide(given, receive(invoice_id="i2", number="inv 001"))
    assert "number INV-001" in refused.value.reason
    assert normalised_number(" inv-001 ") == "INV001"


def test_the_same_number_with_another_amount_is_not_a_duplicate() -> None:
    given = [REGISTERED, received()]
    [event] = decide(given, receive(GLOVES, invoice_id="i2"))
    assert isinstance(event, InvoiceReceived)
    assert event.total_cents == 120_000


def test_a_voided_invoice_is_no_duplicate_s_first() -> None:
    given = [REGISTERED, received(), *decide([REGISTERED, received()], void())]
    [event] = decide(given, receive(invoice_id="i2"))
    assert isinstance(event, InvoiceReceived)
    assert event.invoice_id == "i2"


def test_a_rejected_invoice_received_again_is_still_a_duplicate() -> None:
    rejected = InvoiceRejected(
        vendor_id="v1",
        invoice_id="i1",
        reason="not ordered",
        rejected_by="m1",
        rejected_on=date(2026, 7, 7),
        rejected_at=T0,
    )
    with pytest.raises(Rejected, match="a duplicate of invoice i1"):
        decide([REGISTERED, received(), rejected], receive(invoice_id="i2"))


# ----------------------------------------------------------------------------- approvals


def test_an_invoice_under_the_limit_is_approved_by_one_person() -> None:
    given = [REGISTERED, received()]
    assert decide(given, approve("m1")) == [approval("m1", 1, 1)]
    assert vendor.fold([*given, approval("m1", 1, 1)]).invoice("i1").approved


def test_nobody_approves_an_invoice_they_entered() -> None:
    given = [REGISTERED, received()]
    with pytest.raises(Forbidden, match="clerk entered invoice i1"):
        decide(given, approve("clerk"))


def test_over_the_limit_two_different_people_approve() -> None:
    big = received(MRI)
    assert big.total_cents == 4_500_000
    assert big.approvals_needed == 2
    given = [REGISTERED, big]
    assert decide(given, approve("m1")) == [approval("m1", 1, 2)]
    once = [*given, approval("m1", 1, 2)]
    assert not vendor.fold(once).invoice("i1").approved
    with pytest.raises(Rejected, match="a second, different approver"):
        decide(once, approve("m1"))
    with pytest.raises(Forbidden, match="clerk entered"):
        decide(once, approve("clerk"))
    assert decide(once, approve("m2")) == [approval("m2", 2, 2)]
    twice = [*once, approval("m2", 2, 2)]
    assert vendor.fold(twice).invoice("i1").approved
    assert decide(twice, approve("m2")) == []
    with pytest.raises(Rejected, match="already approved"):
        decide(twice, approve("m3"))


def test_the_limit_is_the_use_case_s_to_set_and_exactly_at_it_one_approval_does() -> None:
    at_limit = receive().model_copy(update={"second_approval_over_cents": 150_050})
    [event] = decide([REGISTERED], at_limit)
    assert isinstance(event, InvoiceReceived)
    assert event.approvals_needed == 1
    over = receive().model_copy(update={"second_approval_over_cents": 150_049})
    [event] = decide([REGISTERED], over)
    assert isinstance(event, InvoiceReceived)
    assert event.approvals_needed == 2


def test_a_rejected_or_voided_invoice_is_not_approved() -> None:
    rejected = decide(
        [REGISTERED, received()],
        RejectInvoice(
            vendor_id="v1",
            invoice_id="i1",
            reason="not ordered",
            rejected_by="m1",
            rejected_on=date(2026, 7, 7),
            rejected_at=T0,
        ),
    )
    assert [type(e) for e in rejected] == [InvoiceRejected]
    with pytest.raises(Rejected, match="was rejected"):
        decide([REGISTERED, received(), *rejected], approve("m1"))
    voided = decide([REGISTERED, received()], void())
    with pytest.raises(Rejected, match="is voided"):
        decide([REGISTERED, received(), *voided], approve("m1"))
    with pytest.raises(NotFound, match="invoice i9"):
        decide([REGISTERED], approve("m1", invoice_id="i9"))


# ----------------------------------------------------------------------------- paying


def test_an_approved_invoice_is_scheduled_in_one_run_and_paid_by_it_once() -> None:
    assert decide(APPROVED, schedule("r1")) == [scheduled("r1")]
    in_run = [*APPROVED, scheduled("r1")]
    assert decide(in_run, schedule("r1")) == []
    with pytest.raises(Rejected, match="in open payment run r1"):
        decide(in_run, schedule("r2"))
    paid = InvoicePaid(
        vendor_id="v1",
        invoice_id="i1",
        run_id="r1",
        amount_cents=150_050,
        paid_on=date(2026, 7, 31),
        paid_at=T0,
    )
    assert decide(in_run, pay("r1")) == [paid]
    done = [*in_run, paid]
    assert decide(done, pay("r1")) == []  # the run again after a crash: nothing twice
    with pytest.raises(Rejected, match="already paid by run r1"):
        decide(done, pay("r2"))
    with pytest.raises(Rejected, match="is paid"):
        decide(done, schedule("r2"))


def test_an_invoice_is_never_paid_twice_whatever_is_asked() -> None:
    state = vendor.fold(APPROVED)
    steps: list[VendorCommand] = [
        schedule("r1"),
        pay("r1"),
        pay("r1"),
        schedule("r2"),
        pay("r2"),
        schedule("r1"),
        pay("r1"),
    ]
    paid = 0
    for command in steps:
        try:
            events = vendor.decide(state, command)
        except Rejected:
            continue
        for event in events:
            paid += isinstance(event, InvoicePaid)
            state = vendor.evolve(state, event)
    assert paid == 1


def test_an_unapproved_invoice_is_neither_scheduled_nor_paid_outside_its_run() -> None:
    with pytest.raises(Rejected, match="not approved"):
        decide([REGISTERED, received()], schedule("r1"))
    with pytest.raises(Rejected, match="not in payment run r1"):
        decide(APPROVED, pay("r1"))
    with pytest.raises(Rejected, match="not in payment run r2"):
        decide([*APPROVED, scheduled("r1")], pay("r2"))


# ----------------------------------------------------------------------------- voids


def test_an_invoice_is_voided_once_with_a_reason() -> None:
    [event] = decide(APPROVED, void())
    assert isinstance(event, InvoiceVoided)
    assert event.voided_on == date(2026, 7, 7)
    assert decide([*APPROVED, event], void()) == []
    with pytest.raises(Invalid, match="needs a reason"):
        decide(APPROVED, void().model_copy(update={"reason": ""}))
    with pytest.raises(Rejected, match="is voided"):
        decide([*APPROVED, event], schedule("r1"))


def test_an_invoice_in_a_run_or_paid_is_not_voided_nor_rejected() -> None:
    in_run = [*APPROVED, scheduled("r1")]
    with pytest.raises(Rejected, match="in payment run r1"):
        decide(in_run, void())
    reject = RejectInvoice(
        vendor_id="v1",
        invoice_id="i1",
        reason="wrong",
        rejected_by="m1",
        rejected_on=date(2026, 7, 7),
        rejected_at=T0,
    )
    with pytest.raises(Rejected, match="in payment run r1"):
        decide(in_run, reject)
    paid = [*in_run, *decide(in_run, pay("r1"))]
    with pytest.raises(Rejected, match="a paid invoice is not voided"):
        decide(paid, void())
