"""Revenue learnt from billing: once per billing event, on its payer class's account, refunds
and reversals taken back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.finance.domain.accounts import DEFAULT_ACCOUNTS, Chart, cost_centres_for
from services.finance.domain.events import RevenueKind, RevenueRecognised
from services.finance.domain.revenue import RecogniseRevenue, revenue
from shared.domain import Invalid, NotFound
from shared.events import DomainEvent

T0 = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)
CHART = Chart(accounts=DEFAULT_ACCOUNTS, cost_centres=cost_centres_for(["north"]))


def recognise(
    kind: RevenueKind = "payer_payment", cents: int = 8_000, site_id: str = "north"
) -> RecogniseRevenue:
    return RecogniseRevenue(
        learnt_from="evt-1",
        kind=kind,
        payer_class="medicare",
        site_id=site_id,
        amount_cents=cents,
        date_of_service=date(2026, 6, 28),
        posted_on=date(2026, 7, 14),
        chart=CHART,
        recognised_at=T0,
    )


def decide(given: Sequence[DomainEvent], command: RecogniseRevenue) -> list[DomainEvent]:
    return list(revenue.decide(revenue.fold(given), command))


def test_a_payment_is_revenue_on_its_payer_class_s_account_by_both_dates() -> None:
    [event] = decide([], recognise())
    assert event == RevenueRecognised(
        learnt_from="evt-1",
        kind="payer_payment",
        site_id="north",
        account_code="4200",
        amount_cents=8_000,
        date_of_service=date(2026, 6, 28),
        posted_on=date(2026, 7, 14),
        recognised_at=T0,
    )
    assert decide([event], recognise()) == []  # delivered again: nothing


@pytest.mark.parametrize(("kind", "cents"), [("refund", -2_500), ("reversal", -2_500)])
def test_refunds_and_reversals_take_revenue_back(kind: RevenueKind, cents: int) -> None:
    [event] = decide([], recognise(kind, 2_500))
    assert isinstance(event, RevenueRecognised)
    assert event.amount_cents == cents
    with pytest.raises(Invalid, match="positive"):
        decide([], recognise(kind, -2_500))


def test_an_adjustment_keeps_its_sign_and_nothing_moved_records_nothing() -> None:
    [event] = decide([], recognise("adjustment", -300))
    assert isinstance(event, RevenueRecognised)
    assert event.amount_cents == -300
    assert decide([], recognise(cents=0)) == []


def test_a_site_without_a_cost_centre_is_an_error() -> None:
    with pytest.raises(NotFound, match="site east"):
        decide([], recognise(site_id="east"))
