"""Given these events, when this command, then these events: the chart of accounts and the
cost centres (one stream per tenant)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from services.finance.domain.accounts import (
    DEFAULT_ACCOUNTS,
    ChartCommand,
    SetChartOfAccounts,
    SetCostCentres,
    chart,
    cost_centres_for,
    payer_class_of,
)
from services.finance.domain.events import (
    Account,
    ChartOfAccountsSet,
    CostCentre,
    CostCentresSet,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
DEFAULT_SET = ChartOfAccountsSet(accounts=DEFAULT_ACCOUNTS, set_by="fin1", set_at=T0)


def decide(given: Sequence[DomainEvent], command: ChartCommand) -> list[DomainEvent]:
    return list(chart.decide(chart.fold(given), command))


def test_the_default_chart_has_revenue_by_payer_class_and_a_practice_s_costs() -> None:
    revenue = {a.category for a in DEFAULT_ACCOUNTS if a.kind == "revenue"}
    expense = {a.category for a in DEFAULT_ACCOUNTS if a.kind == "expense"}
    assert revenue == {"commercial", "medicare", "medicaid", "self_pay", "other_payer"}
    assert expense == {"salaries", "supplies", "rent", "equipment", "it", "insurance"}


def test_the_default_chart_is_set() -> None:
    assert decide([], SetChartOfAccounts(set_by="fin1", set_at=T0)) == [DEFAULT_SET]


def test_setting_the_same_chart_again_records_nothing() -> None:
    assert decide([DEFAULT_SET], SetChartOfAccounts(set_by="fin2", set_at=T0)) == []


def test_an_account_is_added() -> None:
    dues = Account(code="5700", name="Dues", kind="expense", category="other_expense")
    then = decide(
        [DEFAULT_SET], SetChartOfAccounts(accounts=(*DEFAULT_ACCOUNTS, dues), set_by="f", set_at=T0)
    )
    assert then == [ChartOfAccountsSet(accounts=(*DEFAULT_ACCOUNTS, dues), set_by="f", set_at=T0)]
    assert chart.fold([*then]).account("5700") == dues


def test_an_account_is_never_removed_nor_changes_kind() -> None:
    with pytest.raises(Rejected, match="never removed: 5600"):
        decide(
            [DEFAULT_SET], SetChartOfAccounts(accounts=DEFAULT_ACCOUNTS[:-1], set_by="f", set_at=T0)
        )
    flipped = Account(code="5600", name="Insurance refunds", kind="revenue", category="other_payer")
    with pytest.raises(Rejected, match="5600 is for expense: a code keeps its kind"):
        decide(
            [DEFAULT_SET],
            SetChartOfAccounts(accounts=(*DEFAULT_ACCOUNTS[:-1], flipped), set_by="f", set_at=T0),
        )


@pytest.mark.parametrize(
    ("accounts", "problem"),
    [
        ((*DEFAULT_ACCOUNTS, DEFAULT_ACCOUNTS[0]), "4100 appears twice"),
        (tuple(a for a in DEFAULT_ACCOUNTS if a.kind == "expense"), "revenue and expense"),
        (
            (*DEFAULT_ACCOUNTS, Account(code="4999", name="x", kind="revenue", category="rent")),
            "4999 needs a payer class",
        ),
        (
            (
                *DEFAULT_ACCOUNTS,
                Account(code="5999", name="x", kind="expense", category="medicare"),
            ),
            "5999 has a payer class",
        ),
        ((*DEFAULT_ACCOUNTS, Account(code=" ", name="x", kind="expense", category="it")), "a code"),
    ],
)
def test_a_chart_that_makes_no_sense_is_refused(
    accounts: tuple[Account, ...], problem: str
) -> None:
    with pytest.raises(Invalid, match=problem):
        decide([], SetChartOfAccounts(accounts=accounts, set_by="f", set_at=T0))


def test_each_site_is_a_cost_centre() -> None:
    centres = cost_centres_for(["south", "north", "north"])
    assert centres == (
        CostCentre(cost_centre_id="cc-north", site_id="north", name="Site north"),
        CostCentre(cost_centre_id="cc-south", site_id="south", name="Site south"),
    )
    then = decide([DEFAULT_SET], SetCostCentres(cost_centres=centres, set_by="f", set_at=T0))
    assert then == [CostCentresSet(cost_centres=centres, set_by="f", set_at=T0)]
    state = chart.fold([DEFAULT_SET, *then])
    assert state.has_site("north")
    assert not state.has_site("east")
    with pytest.raises(NotFound, match="site east has no cost centre"):
        state.check_site("east")
    assert (
        decide([DEFAULT_SET, *then], SetCostCentres(cost_centres=centres, set_by="g", set_at=T0))
        == []
    )


@pytest.mark.parametrize(
    ("centres", "problem"),
    [
        ((), "at least one"),
        (
            (
                CostCentre(cost_centre_id="a", site_id="north", name="A"),
                CostCentre(cost_centre_id="b", site_id="north", name="B"),
            ),
            "site north has two cost centres",
        ),
        (
            (
                CostCentre(cost_centre_id="a", site_id="north", name="A"),
                CostCentre(cost_centre_id="a", site_id="south", name="B"),
            ),
            "cost centre a appears twice",
        ),
    ],
)
def test_cost_centres_that_make_no_sense_are_refused(
    centres: tuple[CostCentre, ...], problem: str
) -> None:
    with pytest.raises(Invalid, match=problem):
        decide([], SetCostCentres(cost_centres=centres, set_by="f", set_at=T0))


def test_a_payment_s_payer_class_comes_from_its_claim_filing_indicator() -> None:
    assert payer_class_of("MB") == "medicare"
    assert payer_class_of("mc") == "medicaid"
    assert payer_class_of("CI") == "commercial"
    assert payer_class_of("BL") == "commercial"
    assert payer_class_of(None) == "commercial"
    assert payer_class_of("WC") == "other_payer"
    assert payer_class_of("MB", self_pay=True) == "self_pay"
    state = chart.fold([DEFAULT_SET])
    assert state.revenue_account("medicare").code == "4200"
    with pytest.raises(NotFound, match="account 9999"):
        state.account("9999")
