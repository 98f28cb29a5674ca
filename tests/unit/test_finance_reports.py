"""A month's reports computed by hand: profit and loss for a site and the group, budget versus
actual with variance and variance %, cost per visit, and the rounding rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.finance.domain.accounts import DEFAULT_ACCOUNTS, Chart, cost_centres_for
from services.finance.domain.reports import (
    Line,
    Row,
    budget_versus_actual,
    cost_per_visit,
    percentage,
    profit_and_loss,
)
from shared.domain import Invalid, NotFound

CHART = Chart(accounts=DEFAULT_ACCOUNTS, cost_centres=cost_centres_for(["north", "south"]))
JULY = date(2026, 7, 1)
JUNE = date(2026, 6, 1)

REVENUE = [
    Row("north", JULY, "4100", 1_234_567),
    Row("north", JULY, "4100", 100_000),
    Row("north", JULY, "4200", 500_000),
    Row("south", JULY, "4100", 300_000),
    Row("north", JUNE, "4100", 999_999),  # another month
]
EXPENSES = [
    Row("north", JULY, "5100", 900_000),
    Row("north", JULY, "5300", 250_000),
    Row("south", JULY, "5100", 400_000),
    Row("south", JULY, "5200", 33_333),
    Row("south", JUNE, "5200", 1),
]
BUDGET = [
    Row("north", JULY, "4100", 1_200_000),
    Row("north", JULY, "4200", 600_000),
    Row("north", JULY, "5100", 880_000),
    Row("north", JULY, "5200", 20_000),
    Row("north", JULY, "5300", 250_000),
    Row("south", JULY, "5100", 400_000),
]


def zero_or(amounts: dict[str, int], lines: tuple[Line, ...]) -> None:
    assert {line.account_code: line.amount_cents for line in lines if line.amount_cents} == amounts
    assert all(line.amount_cents == 0 for line in lines if line.account_code not in amounts)


def test_a_site_s_profit_and_loss_for_a_month() -> None:
    pnl = profit_and_loss(CHART, REVENUE, EXPENSES, JULY, "north")
    zero_or({"4100": 1_334_567, "4200": 500_000}, pnl.revenue)
    zero_or({"5100": 900_000, "5300": 250_000}, pnl.expenses)
    assert [line.account_code for line in pnl.revenue] == ["4100", "4200", "4300", "4400", "4900"]
    assert len(pnl.expenses) == 6  # every expense account, zero ones too
    assert pnl.revenue[0].name == "Patient revenue: commercial"
    assert (pnl.revenue_cents, pnl.expenses_cents, pnl.net_income_cents) == (
        1_834_567,
        1_150_000,
        684_567,
    )


def test_the_group_s_profit_and_loss_is_its_sites_added_up() -> None:
    group = profit_and_loss(CHART, REVENUE, EXPENSES, JULY)
    assert group.site_id is None
    zero_or({"4100": 1_634_567, "4200": 500_000}, group.revenue)
    zero_or({"5100": 1_300_000, "5200": 33_333, "5300": 250_000}, group.expenses)
    assert (group.revenue_cents, group.expenses_cents, group.net_income_cents) == (
        2_134_567,
        1_583_333,
        551_234,
    )
    sites = [profit_and_loss(CHART, REVENUE, EXPENSES, JULY, s) for s in ("north", "south")]
    assert sum(s.net_income_cents for s in sites) == group.net_income_cents


def test_a_row_on_an_account_outside_the_chart_or_of_the_other_kind_is_an_error() -> None:
    with pytest.raises(Invalid, match="account 5100 is for expense, not revenue"):
        profit_and_loss(CHART, [Row("north", JULY, "5100", 1)], [], JULY)
    with pytest.raises(NotFound, match="account 9999"):
        profit_and_loss(CHART, [], [Row("north", JULY, "9999", 1)], JULY)
    with pytest.raises(NotFound, match="account 9999"):
        budget_versus_actual(CHART, [], [Row("north", JULY, "9999", 1)], JULY)


def test_a_site_s_budget_versus_actual_with_variance_and_variance_percent() -> None:
    report = budget_versus_actual(CHART, [*REVENUE, *EXPENSES], BUDGET, JULY, "north")
    lines = {line.account_code: line for line in report.lines}
    assert [line.account_code for line in report.lines][:6] == [
        "4100",
        "4200",
        "4300",
        "4400",
        "4900",
        "5100",
    ]
    expected = {
        # account: (budget, actual, variance, variance %, favourable)
        "4100": (1_200_000, 1_334_567, 134_567, Decimal("11.2"), True),
        "4200": (600_000, 500_000, -100_000, Decimal("-16.7"), False),
        "4300": (0, 0, 0, None, True),
        "5100": (880_000, 900_000, 20_000, Decimal("2.3"), False),
        "5200": (20_000, 0, -20_000, Decimal("-100.0"), True),
        "5300": (250_000, 250_000, 0, Decimal("0.0"), True),
    }
    for code, row in expected.items():
        line = lines[code]
        assert (
            line.budget_cents,
            line.actual_cents,
            line.variance_cents,
            line.variance_pct,
            line.favourable,
        ) == row, code
    revenue, expense, net = report.total("revenue"), report.total("expense"), report.net_income
    assert (revenue.budget_cents, revenue.actual_cents, revenue.variance_pct) == (
        1_800_000,
        1_834_567,
        Decimal("1.9"),
    )
    assert (expense.budget_cents, expense.actual_cents, expense.variance_pct) == (
        1_150_000,
        1_150_000,
        Decimal("0.0"),
    )
    assert (net.budget_cents, net.actual_cents, net.variance_cents) == (650_000, 684_567, 34_567)
    assert net.variance_pct == Decimal("5.3")
    assert net.favourable


def test_the_group_s_budget_versus_actual() -> None:
    report = budget_versus_actual(CHART, [*REVENUE, *EXPENSES], BUDGET, JULY)
    salaries = next(line for line in report.lines if line.account_code == "5100")
    assert (salaries.budget_cents, salaries.actual_cents, salaries.variance_pct) == (
        1_280_000,
        1_300_000,
        Decimal("1.6"),  # 20,000 / 1,280,000 = 1.5625 %
    )
    supplies = next(line for line in report.lines if line.account_code == "5200")
    assert (supplies.budget_cents, supplies.actual_cents, supplies.variance_cents) == (
        20_000,
        33_333,
        13_333,
    )
    assert supplies.variance_pct == Decimal("66.7")


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (1_225, 10_000, Decimal("12.3")),  # a half: away from zero
        (-1_225, 10_000, Decimal("-12.3")),
        (1_224, 10_000, Decimal("12.2")),
        (1, 3, Decimal("33.3")),
        (2, 3, Decimal("66.7")),
        (5, -10, Decimal("-50.0")),
        (5, 0, None),  # no budget: no percentage
        (0, 0, None),
    ],
)
def test_variance_percent_rounds_to_one_decimal_halves_away_from_zero(
    part: int, whole: int, expected: Decimal | None
) -> None:
    assert percentage(part, whole) == expected


def test_cost_per_visit_is_in_whole_cents_halves_away_from_zero() -> None:
    north = profit_and_loss(CHART, REVENUE, EXPENSES, JULY, "north")
    assert cost_per_visit(north.expenses_cents, 437) == 2_632  # 2,631.58 cents
    assert cost_per_visit(1_000, 8) == 125
    assert cost_per_visit(5, 2) == 3
    assert cost_per_visit(7, 2) == 4
    assert cost_per_visit(1_000, 0) is None
    with pytest.raises(Invalid, match="zero or more"):
        cost_per_visit(1_000, -1)
