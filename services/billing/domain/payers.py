"""A payer the group bills, and its plans: one stream per payer.

The latest definition of a payer holds, and so does the latest of each of its plans; the same
definition again records nothing (a PUT sent twice changes nothing). A plan needs its payer
defined first. `SELF_PAY` is built in (the self-pay fee schedule, uninsured charges): no payer
may take its id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

from pydantic import AwareDatetime

from services.billing.domain.events import SELF_PAY, PayerDefined, PlanDefined
from shared.domain import Command, Decider, Invalid, NotFound
from shared.events import DomainEvent

# X12 005010X222A1 SBR09, Claim Filing Indicator Code: every value the guide lists.
CLAIM_FILING_INDICATORS: MappingProxyType[str, str] = MappingProxyType(
    {
        "11": "Other Non-Federal Programs",
        "12": "Preferred Provider Organization (PPO)",
        "13": "Point of Service (POS)",
        "14": "Exclusive Provider Organization (EPO)",
        "15": "Indemnity Insurance",
        "16": "Health Maintenance Organization (HMO) Medicare Risk",
        "17": "Dental Maintenance Organization",
        "AM": "Automobile Medical",
        "BL": "Blue Cross/Blue Shield",
        "CH": "Champus",
        "CI": "Commercial Insurance Co.",
        "DS": "Disability",
        "FI": "Federal Employees Program",
        "HM": "Health Maintenance Organization",
        "LM": "Liability Medical",
        "MA": "Medicare Part A",
        "MB": "Medicare Part B",
        "MC": "Medicaid",
        "OF": "Other Federal Program",
        "TV": "Title V",
        "VA": "Veterans Affairs Plan",
        "WC": "Workers' Compensation Health Claim",
        "ZZ": "Mutually Defined",
    }
)
# The clearinghouse's payer id (NM109 of loop 2010BB): X12 allows 2 to 80 characters; payer
# ids are letters and digits.
_X12_PAYER_ID = re.compile(r"[A-Za-z0-9]{2,80}")
MAX_NAME = 200


class DefinePayer(Command):
    payer_id: str
    name: str
    x12_payer_id: str
    claim_filing_indicator: str
    defined_at: AwareDatetime


class DefinePlan(Command):
    payer_id: str
    plan_id: str
    name: str
    claim_filing_indicator: str | None = None
    defined_at: AwareDatetime


@dataclass(frozen=True)
class Payer:
    defined: PayerDefined | None = None
    plans: MappingProxyType[str, PlanDefined] = field(default_factory=lambda: MappingProxyType({}))


def evolve(state: Payer, event: DomainEvent) -> Payer:
    if isinstance(event, PayerDefined):
        return Payer(defined=event, plans=state.plans)
    if isinstance(event, PlanDefined):
        return Payer(
            defined=state.defined, plans=MappingProxyType({**state.plans, event.plan_id: event})
        )
    return state


def check_filing_indicator(code: str) -> None:
    if code not in CLAIM_FILING_INDICATORS:
        raise Invalid(
            f"claim filing indicator {code!r} is not an X12 SBR09 code "
            f"({', '.join(CLAIM_FILING_INDICATORS)})"
        )


def _check_name(what: str, name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid(f"a {what} needs a name of 1 to {MAX_NAME} characters")
    return name


def _define_payer(state: Payer, command: DefinePayer) -> list[DomainEvent]:
    if command.payer_id == SELF_PAY:
        raise Invalid(f"payer id {SELF_PAY} is built in (the self-pay fee schedule)")
    name = _check_name("payer", command.name)
    if _X12_PAYER_ID.fullmatch(command.x12_payer_id) is None:
        raise Invalid("x12_payer_id must be 2 to 80 letters or digits")
    check_filing_indicator(command.claim_filing_indicator)
    current = state.defined
    if current is not None and (
        current.name,
        current.x12_payer_id,
        current.claim_filing_indicator,
    ) == (name, command.x12_payer_id, command.claim_filing_indicator):
        return []  # the same definition again: nothing changed
    return [PayerDefined(**{**command.model_dump(), "name": name})]


def _define_plan(state: Payer, command: DefinePlan) -> list[DomainEvent]:
    if state.defined is None:
        raise NotFound(f"payer {command.payer_id} not found")
    name = _check_name("plan", command.name)
    if command.claim_filing_indicator is not None:
        check_filing_indicator(command.claim_filing_indicator)
    current = state.plans.get(command.plan_id)
    if current is not None and (current.name, current.claim_filing_indicator) == (
        name,
        command.claim_filing_indicator,
    ):
        return []
    return [PlanDefined(**{**command.model_dump(), "name": name})]


def decide(state: Payer, command: DefinePayer | DefinePlan) -> list[DomainEvent]:
    if isinstance(command, DefinePayer):
        return _define_payer(state, command)
    return _define_plan(state, command)


payer = Decider(initial=Payer(), evolve=evolve, decide=decide)
