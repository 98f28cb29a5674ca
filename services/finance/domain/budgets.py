"""A site's budget for a fiscal year, on `streams.budget(tenant, site_id, fiscal_year)`: an
amount per account and month, drafted, revised and approved as versions.

A fiscal year is named by the calendar year it ends in: with `first_month` 7, fiscal 2027 runs
from July 2026 to June 2027; with 1, it is the calendar year. Every draft and revision is a
whole new version (1, 2, ...); earlier versions stay readable, and the approved one stays the
site's budget until a later version is approved.

Rules: lines name accounts of the chart and months of the fiscal year, each (account, month)
once, amounts zero or more; the site has a cost centre. Only a manager approves, only the
latest version, and never an empty one. Drafting or revising to what is already there, or
approving the approved version again, records nothing (a retry).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.finance.domain.accounts import Chart
from services.finance.domain.events import BudgetApproved, BudgetDrafted, BudgetLine, BudgetRevised
from shared.domain import Command, Decider, Forbidden, Invalid, NotFound, Rejected
from shared.events import DomainEvent

APPROVER_ROLES = frozenset({"manager"})


def fiscal_months(fiscal_year: int, first_month: int) -> tuple[date, ...]:
    """The twelve months of a fiscal year, as their first days, in order."""
    if not 1 <= first_month <= 12:
        raise Invalid("a fiscal year's first month is 1 (January) to 12 (December)")
    year = fiscal_year if first_month == 1 else fiscal_year - 1
    months = []
    for n in range(12):
        index = first_month - 1 + n
        months.append(date(year + index // 12, index % 12 + 1, 1))
    return tuple(months)


class BudgetVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    budget_version: int
    lines: tuple[BudgetLine, ...]

    def amount(self, account_code: str, month: date) -> int:
        """The amount budgeted (0 when the version has no line for it)."""
        return sum(
            line.amount_cents
            for line in self.lines
            if line.account_code == account_code and line.month == month
        )


class Budget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    site_id: str = ""
    fiscal_year: int = 0
    first_month: int = 1
    versions: tuple[BudgetVersion, ...] = ()
    approved_version: int | None = None

    @property
    def exists(self) -> bool:
        return bool(self.versions)

    @property
    def latest(self) -> BudgetVersion:
        return self.versions[-1]

    @property
    def approved(self) -> BudgetVersion | None:
        """The approved version: the site's budget (None until one is approved)."""
        if self.approved_version is None:
            return None
        return self.version(self.approved_version)

    def version(self, number: int) -> BudgetVersion:
        for version in self.versions:
            if version.budget_version == number:
                return version
        raise NotFound(f"budget version {number} does not exist")


class DraftBudget(Command):
    site_id: str
    fiscal_year: int
    first_month: int
    lines: tuple[BudgetLine, ...]
    chart: Chart
    drafted_by: str
    drafted_at: AwareDatetime


class ReviseBudget(Command):
    site_id: str
    fiscal_year: int
    lines: tuple[BudgetLine, ...]
    reason: str
    chart: Chart
    revised_by: str
    revised_at: AwareDatetime


class ApproveBudget(Command):
    site_id: str
    fiscal_year: int
    budget_version: int
    approved_by: str
    approver_roles: tuple[str, ...]
    approved_at: AwareDatetime


BudgetCommand = DraftBudget | ReviseBudget | ApproveBudget


def _evolve(state: Budget, event: DomainEvent) -> Budget:
    if isinstance(event, BudgetDrafted):
        return Budget(
            site_id=event.site_id,
            fiscal_year=event.fiscal_year,
            first_month=event.first_month,
            versions=(BudgetVersion(budget_version=event.budget_version, lines=event.lines),),
        )
    if isinstance(event, BudgetRevised):
        version = BudgetVersion(budget_version=event.budget_version, lines=event.lines)
        return state.model_copy(update={"versions": (*state.versions, version)})
    if isinstance(event, BudgetApproved):
        return state.model_copy(update={"approved_version": event.budget_version})
    return state


def checked_lines(
    lines: Sequence[BudgetLine], chart: Chart, site_id: str, months: Sequence[date]
) -> tuple[BudgetLine, ...]:
    """The lines in order (account, month), once each checked against the chart and year."""
    chart.check_site(site_id)
    seen: set[tuple[str, date]] = set()
    for line in lines:
        chart.account(line.account_code)
        if line.month not in months:
            raise Invalid(
                f"{line.month.isoformat()} is not the first day of a month of the fiscal year"
            )
        if line.amount_cents < 0:
            raise Invalid(f"account {line.account_code} in {line.month:%Y-%m}: a negative amount")
        key = (line.account_code, line.month)
        if key in seen:
            raise Invalid(f"account {line.account_code} in {line.month:%Y-%m} appears twice")
        seen.add(key)
    return tuple(sorted(lines, key=lambda line: (line.account_code, line.month)))


def _draft(state: Budget, command: DraftBudget) -> list[DomainEvent]:
    months = fiscal_months(command.fiscal_year, command.first_month)
    lines = checked_lines(command.lines, command.chart, command.site_id, months)
    if state.exists:
        first = state.versions[0]
        if len(state.versions) == 1 and first.lines == lines:
            return []
        raise Rejected(
            f"site {command.site_id} has a budget for fiscal {command.fiscal_year}: revise it"
        )
    return [
        BudgetDrafted(
            site_id=command.site_id,
            fiscal_year=command.fiscal_year,
            first_month=command.first_month,
            budget_version=1,
            lines=lines,
            drafted_by=command.drafted_by,
            drafted_at=command.drafted_at,
        )
    ]


def _revise(state: Budget, command: ReviseBudget) -> list[DomainEvent]:
    if not state.exists:
        raise NotFound(f"site {command.site_id} has no budget for fiscal {command.fiscal_year}")
    months = fiscal_months(command.fiscal_year, state.first_month)
    lines = checked_lines(command.lines, command.chart, command.site_id, months)
    if lines == state.latest.lines:
        return []
    if not command.reason.strip():
        raise Invalid("a revision needs a reason")
    return [
        BudgetRevised(
            site_id=command.site_id,
            fiscal_year=command.fiscal_year,
            budget_version=state.latest.budget_version + 1,
            lines=lines,
            reason=command.reason,
            revised_by=command.revised_by,
            revised_at=command.revised_at,
        )
    ]


def _approve(state: Budget, command: ApproveBudget) -> list[DomainEvent]:
    if not APPROVER_ROLES & set(command.approver_roles):
        raise Forbidden("only a manager approves a budget")
    if not state.exists:
        raise NotFound(f"site {command.site_id} has no budget for fiscal {command.fiscal_year}")
    number = command.budget_version
    version = state.version(number)
    if state.approved_version == number:
        return []
    if number != state.latest.budget_version:
        raise Rejected(
            f"version {number} is not the latest: version {state.latest.budget_version} is"
        )
    if not version.lines:
        raise Rejected(f"version {number} is empty: an empty draft is not approved")
    return [
        BudgetApproved(
            site_id=command.site_id,
            fiscal_year=command.fiscal_year,
            budget_version=number,
            approved_by=command.approved_by,
            approved_at=command.approved_at,
        )
    ]


def _decide(state: Budget, command: BudgetCommand) -> list[DomainEvent]:
    if isinstance(command, DraftBudget):
        return _draft(state, command)
    if isinstance(command, ReviseBudget):
        return _revise(state, command)
    return _approve(state, command)


budget: Decider[Budget, BudgetCommand] = Decider(Budget(), _evolve, _decide)
