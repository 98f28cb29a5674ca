"""Finance's payment runs through its use cases (no HTTP): a run that crashed after
scheduling some invoices, or after paying some, is run again with the same id and pays each
invoice exactly once; another run never takes an invoice of an open one."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.finance.app import UseCases
from services.finance.domain import streams
from services.finance.domain.events import CostCentre, InvoiceLine
from services.finance.domain.payables import PayInvoice, ScheduleInvoice, vendor
from shared.domain import NotFound, Rejected
from shared.events import Metadata
from shared.kit import Assembled
from tests.service.conftest import META

APPROVER = Metadata(tenant="acme", actor="approver", correlation_id="service-test")


async def _payable(app: UseCases, *amounts: int) -> list[str]:
    """Invoices of vendor `v1` at north, entered by the tester and approved by another."""
    centres = (CostCentre(cost_centre_id="cc-north", site_id="north", name="North"),)
    await app.accounts.set_cost_centres(META, centres)
    await app.payables.register_vendor(
        META, vendor_id="v1", name="Vendor", tax_id="12-3456789", terms="net_30"
    )
    ids = []
    for n, cents in enumerate(amounts):
        invoice_id = f"inv-{n}"
        await app.payables.receive(
            META,
            vendor_id="v1",
            invoice_id=invoice_id,
            invoice_number=f"N-{n}",
            invoice_date=date(2026, 9, 1),
            received_on=date(2026, 9, 2),
            terms=None,
            lines=(InvoiceLine(account_code="5200", site_id="north", amount_cents=cents),),
        )
        await app.payables.approve(APPROVER, invoice_id)
        ids.append(invoice_id)
    return ids


async def _paid(built: Assembled[UseCases]) -> list[str]:
    envelopes = await built.kit.store.load(streams.vendor("acme", "v1"))
    return [e.data["invoice_id"] for e in envelopes if e.type.endswith(".InvoicePaid.v1")]


async def test_a_run_rerun_after_a_crash_while_scheduling_pays_each_invoice_once(
    finance_service: Assembled[Any],
) -> None:
    app: UseCases = finance_service.use_cases
    ids = await _payable(app, 100, 200, 300)
    # The crash: the first invoice was scheduled in run-1, and the run was never started.
    crashed = ScheduleInvoice(
        vendor_id="v1", invoice_id=ids[0], run_id="run-1", scheduled_at=app.payables.now()
    )
    await app.payables.decide(streams.vendor("acme", "v1"), vendor, crashed, META)
    started = await app.payables.start_run(META, run_id="run-1", pay_on=date(2026, 12, 31))
    assert sorted(i.invoice_id for i in started.state.invoices) == ids
    with pytest.raises(Rejected, match="nothing is due"):  # every invoice is in run-1
        await app.payables.start_run(META, run_id="run-2", pay_on=date(2026, 12, 31))
    for _ in range(2):
        done = await app.payables.complete_run(META, "run-1")
    assert done.state.completed
    assert sorted(await _paid(finance_service)) == ids


async def test_a_run_rerun_after_a_crash_while_paying_pays_the_rest_only(
    finance_service: Assembled[Any],
) -> None:
    app: UseCases = finance_service.use_cases
    ids = await _payable(app, 100, 200)
    await app.payables.start_run(META, run_id="run-1", pay_on=date(2026, 12, 31))
    # The crash: the first invoice was paid, the run never completed.
    crashed = PayInvoice(
        vendor_id="v1",
        invoice_id=ids[0],
        run_id="run-1",
        paid_on=date(2026, 12, 31),
        paid_at=app.payables.now(),
    )
    await app.payables.decide(streams.vendor("acme", "v1"), vendor, crashed, META)
    done = await app.payables.complete_run(META, "run-1")
    assert done.state.completed
    assert sorted(await _paid(finance_service)) == ids


async def _crash_while_scheduling(app: UseCases, run_id: str, *invoice_ids: str) -> None:
    """The crash: these invoices were scheduled in the run, which was never started."""
    for invoice_id in invoice_ids:
        crashed = ScheduleInvoice(
            vendor_id="v1", invoice_id=invoice_id, run_id=run_id, scheduled_at=app.payables.now()
        )
        await app.payables.decide(streams.vendor("acme", "v1"), vendor, crashed, META)


async def test_a_run_that_crashed_before_it_started_shows_what_it_holds_and_resumes(
    finance_service: Assembled[Any],
) -> None:
    app: UseCases = finance_service.use_cases
    ids = await _payable(app, 100, 200)
    await _crash_while_scheduling(app, "run-1", ids[0])
    shown = await app.payables.what_became_of("acme", "run-1")
    assert shown["state"] == "scheduling"
    assert shown["pay_on"] is None
    assert [(i["invoice_id"], i["status"]) for i in shown["invoices"]] == [(ids[0], "scheduled")]
    await app.payables.start_run(META, run_id="run-1", pay_on=date(2026, 12, 31))
    await app.payables.complete_run(META, "run-1")
    shown = await app.payables.what_became_of("acme", "run-1")
    assert shown["state"] == "completed"
    assert shown["pay_on"] == "2026-12-31"
    assert [(i["invoice_id"], i["status"]) for i in shown["invoices"]] == [
        (ids[0], "paid"),
        (ids[1], "paid"),
    ]
    with pytest.raises(Rejected, match="completed"):
        await app.payables.abandon_run(META, "run-1")


async def test_abandoning_a_run_that_crashed_before_it_started_releases_its_invoices(
    finance_service: Assembled[Any],
) -> None:
    app: UseCases = finance_service.use_cases
    ids = await _payable(app, 100, 200, 300)
    await _crash_while_scheduling(app, "run-1", ids[0], ids[1])
    with pytest.raises(Rejected, match="nothing is due"):  # another run cannot take them
        await app.payables.start_run(META, run_id="run-2", pay_on=date(2026, 9, 1))
    for _ in range(2):  # abandoning again records nothing more
        await app.payables.abandon_run(META, "run-1")
    shown = await app.payables.what_became_of("acme", "run-1")
    assert shown["state"] == "abandoned"
    assert [(i["invoice_id"], i["status"]) for i in shown["invoices"]] == [
        (ids[0], "released"),
        (ids[1], "released"),
    ]
    with pytest.raises(Rejected, match="abandoned"):  # it neither resumes nor completes
        await app.payables.start_run(META, run_id="run-1", pay_on=date(2026, 12, 31))
    with pytest.raises(Rejected, match="abandoned"):
        await app.payables.complete_run(META, "run-1")
    # Approved again: another run takes and pays all three.
    started = await app.payables.start_run(META, run_id="run-2", pay_on=date(2026, 12, 31))
    assert sorted(i.invoice_id for i in started.state.invoices) == ids
    await app.payables.complete_run(META, "run-2")
    assert sorted(await _paid(finance_service)) == ids
    envelopes = await finance_service.kit.store.load(streams.payment_run("acme", "run-1"))
    assert [e.type.rsplit(".", 2)[-2] for e in envelopes] == ["PaymentRunAbandoned"]


async def test_abandoning_a_run_that_crashed_while_paying_keeps_what_it_paid(
    finance_service: Assembled[Any],
) -> None:
    app: UseCases = finance_service.use_cases
    ids = await _payable(app, 100, 200)
    started = await app.payables.start_run(META, run_id="run-1", pay_on=date(2026, 12, 31))
    first = started.state.invoices[0]
    paid = PayInvoice(
        vendor_id="v1",
        invoice_id=first.invoice_id,
        run_id="run-1",
        paid_on=date(2026, 12, 31),
        paid_at=app.payables.now(),
    )
    await app.payables.decide(streams.vendor("acme", "v1"), vendor, paid, META)
    await app.payables.abandon_run(META, "run-1")
    shown = await app.payables.what_became_of("acme", "run-1")
    assert shown["state"] == "abandoned"
    assert {i["invoice_id"]: i["status"] for i in shown["invoices"]} == {
        first.invoice_id: "paid",
        next(i for i in ids if i != first.invoice_id): "released",
    }
    with pytest.raises(NotFound):
        await app.payables.what_became_of("acme", "run-none")
    with pytest.raises(NotFound):
        await app.payables.abandon_run(META, "run-none")


async def test_a_run_abandoned_while_it_schedules_leaves_no_invoice_scheduled(
    finance_service: Assembled[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the run is abandoned after its first invoice was scheduled (which the
    abandonment releases) and before the others were; starting it then fails, and the
    invoices it scheduled after the abandonment are released too, approved for another run."""
    app: UseCases = finance_service.use_cases
    ids = await _payable(app, 100, 200, 300)
    decide = app.payables.decide
    abandoned = False

    async def abandon_after_the_first(stream: str, *args: Any) -> Any:
        nonlocal abandoned
        outcome = await decide(stream, *args)
        if isinstance(args[1], ScheduleInvoice) and not abandoned:
            abandoned = True
            await app.payables.abandon_run(APPROVER, args[1].run_id)
        return outcome

    monkeypatch.setattr(app.payables, "decide", abandon_after_the_first)
    with pytest.raises(Rejected, match="abandoned"):
        await app.payables.start_run(META, run_id="run-1", pay_on=date(2026, 12, 31))
    monkeypatch.undo()
    shown = await app.payables.what_became_of("acme", "run-1")
    assert shown["state"] == "abandoned"
    assert {i["invoice_id"]: i["status"] for i in shown["invoices"]} == dict.fromkeys(
        ids, "released"
    )
    started = await app.payables.start_run(META, run_id="run-2", pay_on=date(2026, 12, 31))
    assert sorted(i.invoice_id for i in started.state.invoices) == ids
