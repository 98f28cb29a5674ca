"""Given these events, when this command, then these events: a site's budget for a fiscal
year, drafted, revised and approved as versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.finance.domain.accounts import (
    DEFAULT_ACCOUNTS,
    Chart,
    cost_centres_for,
)
from services.finance.domain.budgets import (
    ApproveBudget,
    BudgetCommand,
    DraftBudget,
    ReviseBudget,
    budget,
    fiscal_months,
)
from services.finance.domain.events import (
    BudgetApproved,
    BudgetDrafted,
    BudgetLine,
    BudgetRevised,
)
from shared.domain import Forbidden, Invalid, NotFound, Rejected
from shared.events import DomainEvent

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
CHART = Chart(accounts=DEFAULT_ACCOUNTS, cost_centres=cost_centres_for(["north", "south"]))
RENT_JULY = BudgetLine(account_code="5300", month=date(2026, 7, 1), amount_cents=800_000)
SALARIES_JULY = BudgetLine(account_code="5100", month=date(2026, 7, 1), amount_cents=9_000_000)
SALARIES_JUNE = BudgetLine(account_code="5100", month=date(2027, 6, 1), amount_cents=9_500_000)


def decide(given: Sequence[DomainEvent], command: BudgetCommand) -> list[DomainEvent]:
    return list(budget.decide(budget.fold(given), command))


def draft(*lines: BudgetLine, site_id: str = "north") -> DraftBudget:
    return DraftBudget(
        site_id=site_id,
        fiscal_year=2027,
        first_month=7,
        lines=lines,
        chart=CHART,
        drafted_by="fin1",
        drafted_at=T0,
    )


def drafted(*lines: BudgetLine) -> BudgetDrafted:
    return BudgetDrafted(
        site_id="north",
        fiscal_year=2027,
        first_month=7,
        budget_version=1,
        lines=lines,
        drafted_by="fin1",
        drafted_at=T0,
    )


def revise(*lines: BudgetLine, reason: str = "new lease") -> ReviseBudget:
    return ReviseBudget(
        site_id="north",
        fiscal_year=2027,
        lines=lines,
        reason=reason,
        chart=CHART,
        revised_by="fin1",
        revised_at=T0,
    )


def revised(version: int, *lines: BudgetLine) -> BudgetRevised:
    return BudgetRevised(
        site_id="north",
        fiscal_year=2027,
        budget_version=version,
        lines=lines,
        reason="new lease",
        revised_by="fin1",
        revised_at=T0,
    )


def approve(version: int, roles: tuple[str, ...] = ("manager",)) -> ApproveBudget:
    return ApproveBudget(
        site_id="north",
        fiscal_year=2027,
        budget_version=version,
        approved_by="m1",
        approver_roles=roles,
        approved_at=T0,
    )


def approved(version: int) -> BudgetApproved:
    return BudgetApproved(
        site_id="north", fiscal_year=2027, budget_version=version, approved_by="m1", approved_at=T0
    )


def test_a_fiscal_year_is_named_by_the_year_it_ends_in() -> None:
    july = fiscal_months(2027, 7)
    assert (july[0], july[5], july[6], july[-1]) == (
        date(2026, 7, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 6, 1),
    )
    assert fiscal_months(2026, 1) == tuple(date(2026, m, 1) for m in range(1, 13))
    with pytest.raises(Invalid, match="first month"):
        fiscal_months(2026, 13)


def test_a_budget_is_drafted_with_its_lines_in_order() -> None:
    then = decide([], draft(SALARIES_JUNE, RENT_JULY, SALARIES_JULY))
    assert then == [drafted(SALARIES_JULY, SALARIES_JUNE, RENT_JULY)]


def test_drafting_the_same_again_records_nothing_and_other_lines_are_a_revision() -> None:
    given = [drafted(RENT_JULY)]
    assert decide(given, draft(RENT_JULY)) == []
    with pytest.raises(Rejected, match="has a budget for fiscal 2027: revise it"):
        decide(given, draft(SALARIES_JULY))


@pytest.mark.parametrize(
    ("line", "error", "problem"),
    [
        (BudgetLine(account_code="9999", month=date(2026, 7, 1), amount_cents=1), NotFound, "9999"),
        (
            BudgetLine(account_code="5300", month=date(2026, 6, 1), amount_cents=1),
            Invalid,
            "2026-06-01 is not the first day of a month of the fiscal year",
        ),
        (
            BudgetLine(account_code="5300", month=date(2026, 7, 2), amount_cents=1),
            Invalid,
            "not the first day",
        ),
        (
            BudgetLine(account_code="5300", month=date(2026, 7, 1), amount_cents=-1),
            Invalid,
            "a negative amount",
        ),
        (RENT_JULY, Invalid, "5300 in 2026-07 appears twice"),
    ],
)
def test_lines_outside_the_chart_or_the_year_are_refused(
    line: BudgetLine, error: type[Exception], problem: str
) -> None:
    with pytest.raises(error, match=problem):
        decide([], draft(RENT_JULY, line))


def test_a_site_without_a_cost_centre_has_no_budget() -> None:
    with pytest.raises(NotFound, match="site east has no cost centre"):
        decide([], draft(RENT_JULY, site_id="east"))


def test_a_revision_is_a_new_version_and_earlier_ones_stay_readable() -> None:
    given = [drafted(RENT_JULY)]
    then = decide(given, revise(RENT_JULY, SALARIES_JULY))
    assert then == [revised(2, SALARIES_JULY, RENT_JULY)]
    state = budget.fold([*given, *then])
    assert [v.budget_version for v in state.versions] == [1, 2]
    assert state.version(1).lines == (RENT_JULY,)
    assert state.latest.amount("5100", date(2026, 7, 1)) == 9_000_000
    assert state.latest.amount("5200", date(2026, 7, 1)) == 0


def test_revising_to_the_same_lines_records_nothing_and_a_change_needs_a_reason() -> None:
    given = [drafted(RENT_JULY)]
    assert decide(given, revise(RENT_JULY, reason="")) == []
    with pytest.raises(Invalid, match="needs a reason"):
        decide(given, revise(SALARIES_JULY, reason=" "))
    with pytest.raises(NotFound, match="no budget"):
        decide([], revise(RENT_JULY))


def test_a_manager_approves_the_latest_version() -> None:
    given = [drafted(RENT_JULY), revised(2, SALARIES_JULY, RENT_JULY)]
    assert decide(given, approve(2)) == [approved(2)]
    assert decide([*given, approved(2)], approve(2)) == []


def test_the_approved_version_stays_the_budget_while_a_revision_is_drafted() -> None:
    given = [drafted(RENT_JULY), approved(1), revised(2, SALARIES_JULY, RENT_JULY)]
    state = budget.fold(given)
    assert state.approved is not None
    assert state.approved.budget_version == 1
    assert state.approved.lines == (RENT_JULY,)
    assert state.latest.budget_version == 2
    assert decide(given, approve(2)) == [approved(2)]


def test_only_a_manager_approves() -> None:
    with pytest.raises(Forbidden, match="only a manager"):
        decide([drafted(RENT_JULY)], approve(1, roles=("finance", "biller")))


def test_an_earlier_version_is_not_approved() -> None:
    given = [drafted(RENT_JULY), revised(2, SALARIES_JULY, RENT_JULY)]
    with pytest.raises(Rejected, match="version 1 is not the latest: version 2 is"):
        decide(given, approve(1))
    with pytest.raises(NotFound, match="version 3 does not exist"):
        decide(given, approve(3))


def test_an_empty_draft_is_not_approved() -> None:
    with pytest.raises(Rejected, match="an empty draft is not approved"):
        decide([drafted()], approve(1))
    with pytest.raises(NotFound, match="no budget"):
        decide([], approve(1))
