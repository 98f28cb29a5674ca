"""AP aging as of any date: the buckets' boundaries, and what was paid, voided or rejected by
the day (and not after it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.finance.domain.aging import BUCKETS, ap_aging, bucket
from services.finance.domain.events import (
    InvoiceLine,
    InvoicePaid,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceVoided,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
DUE = date(2026, 3, 31)


def received(
    invoice_id: str, cents: int, due_on: date = DUE, vendor_id: str = "v1"
) -> InvoiceReceived:
    return InvoiceReceived(
        vendor_id=vendor_id,
        invoice_id=invoice_id,
        invoice_number=invoice_id,
        invoice_date=due_on - timedelta(days=30),
        received_on=due_on - timedelta(days=25),
        terms="net_30",
        due_on=due_on,
        lines=(InvoiceLine(account_code="5200", site_id="north", amount_cents=cents),),
        total_cents=cents,
        approvals_needed=1,
        received_by="clerk",
        received_at=T0,
    )


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (-5, "current"),
        (0, "current"),  # due today: not late
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (400, "90+"),
    ],
)
def test_the_buckets_boundaries(days: int, expected: str) -> None:
    assert bucket(days) == expected
    aging = ap_aging([received("i1", 100)], DUE + timedelta(days=days))
    assert aging.totals[expected] == 100
    assert aging.total_cents == 100
    assert [o.bucket for o in aging.invoices] == [expected]


def test_every_bucket_adds_up_by_vendor_and_in_all() -> None:
    events = [
        received("i1", 10_000, due_on=date(2026, 6, 30)),  # current on 30 June
        received("i2", 2_500, due_on=date(2026, 6, 1)),  # 29 days
        received("i3", 300, due_on=date(2026, 5, 1), vendor_id="v2"),  # 60 days
        received("i4", 45, due_on=date(2026, 4, 1), vendor_id="v2"),  # 90 days
        received("i5", 7, due_on=date(2026, 3, 1)),  # 121 days
    ]
    aging = ap_aging(events, date(2026, 6, 30))
    assert dict(aging.totals) == {
        "current": 10_000,
        "1-30": 2_500,
        "31-60": 300,
        "61-90": 45,
        "90+": 7,
    }
    assert tuple(aging.totals) == BUCKETS
    assert aging.total_cents == 12_852
    assert {v: dict(b) for v, b in aging.by_vendor().items()} == {
        "v1": {"current": 10_000, "1-30": 2_500, "31-60": 0, "61-90": 0, "90+": 7},
        "v2": {"current": 0, "1-30": 0, "31-60": 300, "61-90": 45, "90+": 0},
    }
    assert [o.invoice_id for o in aging.invoices] == ["i5", "i4", "i3", "i2", "i1"]
    assert [o.days_past_due for o in aging.invoices] == [121, 90, 60, 29, 0]


def test_as_of_a_past_day_an_invoice_paid_later_was_still_owed() -> None:
    paid = InvoicePaid(
        vendor_id="v1",
        invoice_id="i1",
        run_id="r1",
        amount_cents=100,
        paid_on=date(2026, 4, 15),
        paid_at=T0,
    )
    events = [received("i1", 100), paid]
    assert ap_aging(events, date(2026, 4, 14)).totals["1-30"] == 100
    assert ap_aging(events, date(2026, 4, 15)).total_cents == 0  # paid that day
    assert ap_aging(events, date(2026, 3, 5)).total_cents == 0  # not received yet
    assert ap_aging(events, date(2026, 3, 6)).totals["current"] == 100  # received that day


def test_voided_and_rejected_invoices_are_owed_no_more_from_their_day() -> None:
    events = [
        received("i1", 100),
        received("i2", 200),
        InvoiceVoided(
            vendor_id="v1",
            invoice_id="i1",
            reason="entered twice",
            voided_by="f",
            voided_on=date(2026, 4, 10),
            voided_at=T0,
        ),
        InvoiceRejected(
            vendor_id="v1",
            invoice_id="i2",
            reason="not ordered",
            rejected_by="m1",
            rejected_on=date(2026, 4, 20),
            rejected_at=T0,
        ),
    ]
    assert ap_aging(events, date(2026, 4, 9)).total_cents == 300
    assert ap_aging(events, date(2026, 4, 10)).total_cents == 200
    assert ap_aging(events, date(2026, 4, 20)).total_cents == 0
    assert ap_aging([], date(2026, 4, 20)).totals == dict.fromkeys(BUCKETS, 0)
