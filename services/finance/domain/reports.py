"""A month's reports for one site or the whole group, from plain rows: profit and loss, budget
versus actual, cost per visit.

The rows come from the read models (revenue recognised from billing, expenses from AP and
payroll, the approved budgets); these functions only add them up, so that one test can
compute a month by hand.

Rounding rules:
- Amounts are integer cents and are only ever added or subtracted: no amount is rounded, and
  the lines of a report add up exactly to its totals.
- A variance is actual less budget, in cents. Its percentage is the variance over the budget,
  times 100, rounded to one decimal place, halves away from zero (12.25 -> 12.3, -12.25 ->
  -12.3); with no budget (0) there is no percentage (None), whatever the actual.
- A variance is favourable when revenue is at or over budget, or expense at or under it.
- Cost per visit is the month's expenses over its visits, rounded to a whole cent, halves
  away from zero; with no visits there is none (None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.finance.domain.accounts import Chart
from services.finance.domain.events import Account, AccountKind
from shared.domain import Invalid

ONE_DECIMAL = Decimal("0.1")
WHOLE = Decimal("1")


@dataclass(frozen=True)
class Row:
    """An amount posted (or budgeted) to an account at a site in a month."""

    site_id: str
    month: date  # the first day of the month
    account_code: str
    amount_cents: int


@dataclass(frozen=True)
class Line:
    account_code: str
    name: str
    amount_cents: int


@dataclass(frozen=True)
class ProfitAndLoss:
    month: date
    site_id: str | None  # None: the whole group
    revenue: tuple[Line, ...]
    expenses: tuple[Line, ...]

    @property
    def revenue_cents(self) -> int:
        return sum(line.amount_cents for line in self.revenue)

    @property
    def expenses_cents(self) -> int:
        return sum(line.amount_cents for line in self.expenses)

    @property
    def net_income_cents(self) -> int:
        return self.revenue_cents - self.expenses_cents


@dataclass(frozen=True)
class Variance:
    account_code: str
    name: str
    kind: AccountKind
    budget_cents: int
    actual_cents: int

    @property
    def variance_cents(self) -> int:
        return self.actual_cents - self.budget_cents

    @property
    def variance_pct(self) -> Decimal | None:
        return percentage(self.variance_cents, self.budget_cents)

    @property
    def favourable(self) -> bool:
        if self.kind == "revenue":
            return self.variance_cents >= 0
        return self.variance_cents <= 0


@dataclass(frozen=True)
class BudgetVersusActual:
    month: date
    site_id: str | None
    lines: tuple[Variance, ...]

    def total(self, kind: AccountKind) -> Variance:
        """The revenue (or expense) lines added up, as one line."""
        lines = [line for line in self.lines if line.kind == kind]
        return Variance(
            account_code="",
            name=f"total {kind}",
            kind=kind,
            budget_cents=sum(line.budget_cents for line in lines),
            actual_cents=sum(line.actual_cents for line in lines),
        )

    @property
    def net_income(self) -> Variance:
        """Revenue less expenses, budgeted and actual: favourable at or over budget."""
        revenue, expense = self.total("revenue"), self.total("expense")
        return Variance(
            account_code="",
            name="net income",
            kind="revenue",
            budget_cents=revenue.budget_cents - expense.budget_cents,
            actual_cents=revenue.actual_cents - expense.actual_cents,
        )


def percentage(part: int, whole: int) -> Decimal | None:
    """`part` over `whole`, times 100, to one decimal place, halves away from zero."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def cost_per_visit(expenses_cents: int, visits: int) -> int | None:
    """Expenses over visits, in whole cents, halves away from zero (None without visits)."""
    if visits < 0:
        raise Invalid("a visit count is zero or more")
    if visits == 0:
        return None
    return int((Decimal(expenses_cents) / Decimal(visits)).quantize(WHOLE, rounding=ROUND_HALF_UP))


def _sums(rows: Iterable[Row], month: date, site_id: str | None) -> dict[str, int]:
    sums: dict[str, int] = {}
    for row in rows:
        if row.month == month and (site_id is None or row.site_id == site_id):
            sums[row.account_code] = sums.get(row.account_code, 0) + row.amount_cents
    return sums


def _accounts(chart: Chart, kind: AccountKind, codes: Iterable[str]) -> tuple[Account, ...]:
    """The chart's accounts of the kind, in code order; a row on another account is an error
    (it would drop out of the report silently)."""
    for code in codes:
        account = chart.account(code)
        if account.kind != kind:
            raise Invalid(f"account {code} is for {account.kind}, not {kind}")
    return tuple(sorted((a for a in chart.accounts if a.kind == kind), key=lambda a: a.code))


def profit_and_loss(
    chart: Chart,
    revenue: Iterable[Row],
    expenses: Iterable[Row],
    month: date,
    site_id: str | None = None,
) -> ProfitAndLoss:
    """The month's revenue and expenses by account (every account of the chart, zero ones
    too), for the site or, with None, the whole group."""
    earned = _sums(revenue, month, site_id)
    spent = _sums(expenses, month, site_id)
    return ProfitAndLoss(
        month=month,
        site_id=site_id,
        revenue=tuple(
            Line(a.code, a.name, earned.get(a.code, 0)) for a in _accounts(chart, "revenue", earned)
        ),
        expenses=tuple(
            Line(a.code, a.name, spent.get(a.code, 0)) for a in _accounts(chart, "expense", spent)
        ),
    )


def budget_versus_actual(
    chart: Chart,
    actual: Iterable[Row],
    budget: Iterable[Row],
    month: date,
    site_id: str | None = None,
) -> BudgetVersusActual:
    """Each account's budget and actual for the month (revenue accounts first), for the site
    or the whole group, with variance and variance %."""
    actuals = _sums(actual, month, site_id)
    budgets = _sums(budget, month, site_id)
    for code in (*actuals, *budgets):
        chart.account(code)
    lines = tuple(
        Variance(
            account_code=account.code,
            name=account.name,
            kind=account.kind,
            budget_cents=budgets.get(account.code, 0),
            actual_cents=actuals.get(account.code, 0),
        )
        for account in sorted(chart.accounts, key=lambda a: (a.kind != "revenue", a.code))
    )
    return BudgetVersusActual(month=month, site_id=site_id, lines=lines)
