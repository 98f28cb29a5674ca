"""Payment runs: what a run picks, starting and completing it, and a rerun after a crash that
pays nothing twice (the vendors' streams and the run's stream, each decided alone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.finance.domain.accounts import DEFAULT_ACCOUNTS, Chart, cost_centres_for
from services.finance.domain.events import (
    InvoiceLine,
    InvoicePaid,
    PaymentRunCompleted,
    PaymentRunStarted,
    RunInvoice,
    VendorRegistered,
)
from services.finance.domain.payables import (
    ApproveInvoice,
    PayInvoice,
    ReceiveInvoice,
    ScheduleInvoice,
    Vendor,
    VendorCommand,
    VoidInvoice,
    vendor,
)
from services.finance.domain.payment_runs import (
    CompletePaymentRun,
    PaymentRunCommand,
    StartPaymentRun,
    payment_run,
    pick,
    still_to_pay,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

T0 = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)
CHART = Chart(accounts=DEFAULT_ACCOUNTS, cost_centres=cost_centres_for(["north"]))
PAY_ON = date(2026, 7, 31)


def run(given: Sequence[DomainEvent], command: PaymentRunCommand) -> list[DomainEvent]:
    return list(payment_run.decide(payment_run.fold(given), command))


def apply(state: Vendor, command: VendorCommand) -> tuple[Vendor, list[DomainEvent]]:
    events = list(vendor.decide(state, command))
    for event in events:
        state = vendor.evolve(state, event)
    return state, events


def a_vendor(vendor_id: str, invoices: dict[str, tuple[int, date]], approve: bool = True) -> Vendor:
    """A vendor with invoices (id: (cents, invoice date), net 30), approved by m1."""
    state = vendor.fold(
        [
            VendorRegistered(
                vendor_id=vendor_id,
                name=vendor_id,
                tax_id="x",
                terms="net_30",
                registered_by="f",
                registered_at=T0,
            )
        ]
    )
    for invoice_id, (cents, invoice_date) in invoices.items():
        state, _ = apply(
            state,
            ReceiveInvoice(
                vendor_id=vendor_id,
                invoice_id=invoice_id,
                invoice_number=invoice_id,
                invoice_date=invoice_date,
                received_on=invoice_date,
                lines=(InvoiceLine(account_code="5200", site_id="north", amount_cents=cents),),
                chart=CHART,
                received_by="clerk",
                received_at=T0,
            ),
        )
        if approve:
            state, _ = apply(
                state,
                ApproveInvoice(
                    vendor_id=vendor_id, invoice_id=invoice_id, approved_by="m1", approved_at=T0
                ),
            )
    return state


def item(vendor_id: str, invoice_id: str, cents: int, due: date) -> RunInvoice:
    return RunInvoice(vendor_id=vendor_id, invoice_id=invoice_id, amount_cents=cents, due_on=due)


ACME = a_vendor("acme", {"a1": (10_000, date(2026, 6, 20)), "a2": (20_000, date(2026, 7, 2))})
BETA = a_vendor("beta", {"b1": (5_000, date(2026, 6, 1))})


def test_a_run_picks_approved_invoices_due_by_its_date_oldest_first() -> None:
    unapproved = a_vendor("gamma", {"g1": (1_000, date(2026, 6, 1))}, approve=False)
    assert pick([ACME, BETA, unapproved], PAY_ON) == (
        item("beta", "b1", 5_000, date(2026, 7, 1)),
        item("acme", "a1", 10_000, date(2026, 7, 20)),
    )
    assert pick([ACME], date(2026, 8, 1)) == (
        item("acme", "a1", 10_000, date(2026, 7, 20)),
        item("acme", "a2", 20_000, date(2026, 8, 1)),  # due on the run's day: picked
    )


def test_a_run_picks_no_invoice_in_another_run_paid_or_voided() -> None:
    acme, _ = apply(
        ACME, ScheduleInvoice(vendor_id="acme", invoice_id="a1", run_id="r0", scheduled_at=T0)
    )
    beta, _ = apply(
        BETA,
        VoidInvoice(
            vendor_id="beta",
            invoice_id="b1",
            reason="duplicate",
            voided_by="f",
            voided_on=date(2026, 7, 2),
            voided_at=T0,
        ),
    )
    assert pick([acme, beta], date(2026, 8, 31)) == (item("acme", "a2", 20_000, date(2026, 8, 1)),)


def start(*invoices: RunInvoice) -> StartPaymentRun:
    return StartPaymentRun(
        run_id="r1", pay_on=PAY_ON, invoices=invoices, started_by="fin1", started_at=T0
    )


B1 = item("beta", "b1", 5_000, date(2026, 7, 1))
A1 = item("acme", "a1", 10_000, date(2026, 7, 20))
STARTED = PaymentRunStarted(
    run_id="r1",
    pay_on=PAY_ON,
    invoices=(B1, A1),
    total_cents=15_000,
    started_by="fin1",
    started_at=T0,
)


def test_a_run_is_started_once_with_what_was_scheduled_in_it() -> None:
    assert run([], start(B1, A1)) == [STARTED]
    assert run([STARTED], start(B1, A1)) == []
    with pytest.raises(Rejected, match="has started already"):
        run([STARTED], start(B1))


def test_a_run_refuses_nothing_to_pay_an_invoice_twice_and_one_not_due() -> None:
    with pytest.raises(Rejected, match="nothing is due by 2026-07-31"):
        run([], start())
    with pytest.raises(Invalid, match="listed twice"):
        run([], start(B1, B1))
    with pytest.raises(Invalid, match="a2 is not due by 2026-07-31"):
        run([], start(item("acme", "a2", 20_000, date(2026, 8, 1))))


def test_a_run_completes_when_its_vendors_show_every_invoice_paid() -> None:
    complete = CompletePaymentRun(run_id="r1", paid_invoice_ids=("b1", "a1"), completed_at=T0)
    assert run([STARTED], complete) == [
        PaymentRunCompleted(run_id="r1", paid=2, total_cents=15_000, completed_at=T0)
    ]
    with pytest.raises(Rejected, match="invoice a1 of run r1 is not paid yet"):
        run([STARTED], complete.model_copy(update={"paid_invoice_ids": ("b1",)}))
    done = [STARTED, *run([STARTED], complete)]
    assert run(done, complete) == []
    with pytest.raises(NotFound, match="run r1 does not exist"):
        run([], complete)


def execute(
    vendors: dict[str, Vendor],
    run_events: list[DomainEvent],
    crash_after_payments: int | None,
    seen: dict[str, Vendor] | None = None,
) -> int:
    """The use case's steps for run r1, stopping (a crash) after so many payments; the
    number of payments recorded. `seen`: the vendors as a lagging read model shows them
    (what the run picks from), if not as they are."""
    picked = pick((seen or vendors).values(), PAY_ON)
    in_run = []
    for invoice in picked:
        try:
            vendors[invoice.vendor_id], _ = apply(
                vendors[invoice.vendor_id],
                ScheduleInvoice(
                    vendor_id=invoice.vendor_id,
                    invoice_id=invoice.invoice_id,
                    run_id="r1",
                    scheduled_at=T0,
                ),
            )
        except Rejected:
            continue
        in_run.append(invoice)
    state = payment_run.fold(run_events)
    if not state.exists:
        run_events += run(run_events, start(*in_run))
        state = payment_run.fold(run_events)
    paid_by = {
        i.invoice_id: vendors[i.vendor_id].invoice(i.invoice_id).paid_by_run for i in state.invoices
    }
    payments = 0
    for invoice in still_to_pay(state, paid_by):
        if crash_after_payments is not None and payments == crash_after_payments:
            return payments
        vendors[invoice.vendor_id], events = apply(
            vendors[invoice.vendor_id],
            PayInvoice(
                vendor_id=invoice.vendor_id,
                invoice_id=invoice.invoice_id,
                run_id="r1",
                paid_on=PAY_ON,
                paid_at=T0,
            ),
        )
        payments += sum(isinstance(e, InvoicePaid) for e in events)
    paid = tuple(
        i.invoice_id
        for i in state.invoices
        if vendors[i.vendor_id].invoice(i.invoice_id).paid_by_run == "r1"
    )
    run_events += run(
        run_events, CompletePaymentRun(run_id="r1", paid_invoice_ids=paid, completed_at=T0)
    )
    return payments


def test_a_rerun_after_a_crash_pays_nothing_twice() -> None:
    vendors = {"acme": ACME, "beta": BETA}
    run_events: list[DomainEvent] = []
    assert execute(vendors, run_events, crash_after_payments=1) == 1
    assert [type(e) for e in run_events] == [PaymentRunStarted]
    assert execute(vendors, run_events, crash_after_payments=None) == 1  # the other one
    assert execute(vendors, run_events, crash_after_payments=None) == 0  # and again: nothing
    assert [type(e) for e in run_events] == [PaymentRunStarted, PaymentRunCompleted]
    assert {
        i.invoice_id: i.paid_by_run for v in vendors.values() for i in v.invoices.values() if i.paid
    } == {"a1": "r1", "b1": "r1"}


def test_an_invoice_in_an_open_run_is_left_out_of_another_even_when_picked() -> None:
    acme, _ = apply(
        ACME, ScheduleInvoice(vendor_id="acme", invoice_id="a1", run_id="r0", scheduled_at=T0)
    )
    vendors = {"acme": acme, "beta": BETA}
    run_events: list[DomainEvent] = []
    lagging = {"acme": ACME, "beta": BETA}  # a read model that has not seen run r0 yet
    assert execute(vendors, run_events, crash_after_payments=None, seen=lagging) == 1
    started = run_events[0]
    assert isinstance(started, PaymentRunStarted)
    assert [i.invoice_id for i in started.invoices] == ["b1"]
    assert vendors["acme"].invoice("a1").run_id == "r0"
    assert not vendors["acme"].invoice("a1").paid


def test_still_to_pay_leaves_out_what_any_run_paid() -> None:
    state = payment_run.fold([STARTED])
    assert still_to_pay(state, {"b1": None, "a1": None}) == (B1, A1)
    assert still_to_pay(state, {"b1": "r1"}) == (A1,)
    assert still_to_pay(state, {"b1": "r1", "a1": "r0"}) == ()
