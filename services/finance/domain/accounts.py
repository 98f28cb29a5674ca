"""The chart of accounts and the cost centres, in one stream per tenant.

A medical group starts from `DEFAULT_ACCOUNTS`: revenue by payer class (commercial, Medicare,
Medicaid, self-pay, other payers) and the costs a practice manager budgets (salaries, supplies,
rent, equipment, IT, insurance). Each site is a cost centre (`cost_centres_for`).

Rules: account codes are unique and never change meaning (an account once set keeps its kind:
earlier postings and budgets keep theirs); the chart has revenue and expense accounts; one
cost centre per site, ids unique. Setting what is already set records nothing (a retry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.finance.domain.events import (
    Account,
    AccountCategory,
    ChartOfAccountsSet,
    CostCentre,
    CostCentresSet,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

PAYER_CLASSES: tuple[AccountCategory, ...] = (
    "commercial",
    "medicare",
    "medicaid",
    "self_pay",
    "other_payer",
)

DEFAULT_ACCOUNTS: tuple[Account, ...] = (
    Account(code="4100", name="Patient revenue: commercial", kind="revenue", category="commercial"),
    Account(code="4200", name="Patient revenue: Medicare", kind="revenue", category="medicare"),
    Account(code="4300", name="Patient revenue: Medicaid", kind="revenue", category="medicaid"),
    Account(code="4400", name="Patient revenue: self-pay", kind="revenue", category="self_pay"),
    Account(
        code="4900", name="Patient revenue: other payers", kind="revenue", category="other_payer"
    ),
    Account(code="5100", name="Salaries and wages", kind="expense", category="salaries"),
    Account(code="5200", name="Medical and office supplies", kind="expense", category="supplies"),
    Account(code="5300", name="Rent and occupancy", kind="expense", category="rent"),
    Account(code="5400", name="Equipment", kind="expense", category="equipment"),
    Account(code="5500", name="IT and software", kind="expense", category="it"),
    Account(code="5600", name="Insurance", kind="expense", category="insurance"),
)

# Billing's claim filing indicators (SBR09) by payer class; any other is commercial.
_FILING_INDICATOR_CLASSES: dict[str, AccountCategory] = {
    "MA": "medicare",
    "MB": "medicare",
    "16": "medicare",  # Medicare advantage (HMO)
    "MC": "medicaid",
    "ZZ": "other_payer",  # mutually defined
    "OF": "other_payer",  # other federal programme
    "CH": "other_payer",  # TRICARE
    "VA": "other_payer",
    "WC": "other_payer",  # workers' compensation
}


def payer_class_of(
    claim_filing_indicator: str | None, *, self_pay: bool = False
) -> AccountCategory:
    """The payer class a payment's revenue goes to: self-pay, or the payer's by its claim filing
    indicator (Medicare, Medicaid, other programmes; commercial otherwise, unknown included)."""
    if self_pay:
        return "self_pay"
    return _FILING_INDICATOR_CLASSES.get((claim_filing_indicator or "").upper(), "commercial")


class Chart(BaseModel):
    """The chart of accounts and cost centres as set (empty before)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accounts: tuple[Account, ...] = ()
    cost_centres: tuple[CostCentre, ...] = ()

    def account(self, code: str) -> Account:
        for account in self.accounts:
            if account.code == code:
                return account
        raise NotFound(f"account {code} is not in the chart of accounts")

    def has_site(self, site_id: str) -> bool:
        return any(centre.site_id == site_id for centre in self.cost_centres)

    def check_site(self, site_id: str) -> None:
        if not self.has_site(site_id):
            raise NotFound(f"site {site_id} has no cost centre")

    def revenue_account(self, payer_class: AccountCategory) -> Account:
        """The first revenue account of the payer class (the chart is set with one each)."""
        for account in self.accounts:
            if account.kind == "revenue" and account.category == payer_class:
                return account
        raise NotFound(f"the chart of accounts has no revenue account for {payer_class}")


def cost_centres_for(site_ids: Iterable[str]) -> tuple[CostCentre, ...]:
    """A cost centre per site, named after it: what a new group starts from."""
    return tuple(
        CostCentre(cost_centre_id=f"cc-{site_id}", site_id=site_id, name=f"Site {site_id}")
        for site_id in sorted(set(site_ids))
    )


class SetChartOfAccounts(Command):
    accounts: tuple[Account, ...] = DEFAULT_ACCOUNTS
    set_by: str
    set_at: AwareDatetime


class SetCostCentres(Command):
    cost_centres: tuple[CostCentre, ...]
    set_by: str
    set_at: AwareDatetime


ChartCommand = SetChartOfAccounts | SetCostCentres


def _evolve(state: Chart, event: DomainEvent) -> Chart:
    if isinstance(event, ChartOfAccountsSet):
        return state.model_copy(update={"accounts": event.accounts})
    if isinstance(event, CostCentresSet):
        return state.model_copy(update={"cost_centres": event.cost_centres})
    return state


def _repeated(values: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None


def _decide_accounts(state: Chart, command: SetChartOfAccounts) -> list[DomainEvent]:
    accounts = tuple(sorted(command.accounts, key=lambda a: a.code))
    if any(not a.code.strip() or not a.name.strip() for a in accounts):
        raise Invalid("every account needs a code and a name")
    twice = _repeated([a.code for a in accounts])
    if twice is not None:
        raise Invalid(f"account {twice} appears twice")
    kinds = {a.kind for a in accounts}
    if kinds != {"revenue", "expense"}:
        raise Invalid("the chart of accounts needs revenue and expense accounts")
    for account in accounts:
        if account.kind == "revenue" and account.category not in PAYER_CLASSES:
            raise Invalid(f"revenue account {account.code} needs a payer class")
        if account.kind == "expense" and account.category in PAYER_CLASSES:
            raise Invalid(f"expense account {account.code} has a payer class")
    before = {a.code: a for a in state.accounts}
    for account in accounts:
        earlier = before.get(account.code)
        if earlier is not None and earlier.kind != account.kind:
            raise Rejected(f"account {account.code} is for {earlier.kind}: a code keeps its kind")
    missing = sorted(set(before) - {a.code for a in accounts})
    if missing:
        raise Rejected(f"accounts are never removed: {', '.join(missing)} missing")
    if accounts == state.accounts:
        return []
    return [ChartOfAccountsSet(accounts=accounts, set_by=command.set_by, set_at=command.set_at)]


def _decide_cost_centres(state: Chart, command: SetCostCentres) -> list[DomainEvent]:
    centres = tuple(sorted(command.cost_centres, key=lambda c: c.site_id))
    if not centres:
        raise Invalid("at least one cost centre is needed")
    if any(not c.cost_centre_id.strip() or not c.site_id.strip() for c in centres):
        raise Invalid("every cost centre needs an id and a site")
    site = _repeated([c.site_id for c in centres])
    if site is not None:
        raise Invalid(f"site {site} has two cost centres")
    centre = _repeated([c.cost_centre_id for c in centres])
    if centre is not None:
        raise Invalid(f"cost centre {centre} appears twice")
    if centres == state.cost_centres:
        return []
    return [CostCentresSet(cost_centres=centres, set_by=command.set_by, set_at=command.set_at)]


def _decide(state: Chart, command: ChartCommand) -> list[DomainEvent]:
    if isinstance(command, SetChartOfAccounts):
        return _decide_accounts(state, command)
    return _decide_cost_centres(state, command)


chart: Decider[Chart, ChartCommand] = Decider(Chart(), _evolve, _decide)
