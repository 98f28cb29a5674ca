"""Publishing a version of a payer's (or self-pay's) fee schedule, on its fee-schedule stream.

The stream numbers the versions (1, 2, ...): each is its own event, so publishing one never
changes an earlier one, nor any charge priced by it. A version lists each (code, modifier)
once: a CPT or HCPCS code, a modifier or "" (any), and a fee per unit in cents, from zero up
to `MAX_FEE_CENTS`. The payer must be defined (the use case folds its stream), except SELF_PAY.
The same fees from the same day as the latest version again are refused (409): published
already, not a new version.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime

from services.billing.domain.codes import is_modifier, is_procedure_code
from services.billing.domain.events import Fee, FeeScheduleVersionPublished
from services.billing.domain.fees import FeeSchedule, evolve
from shared.domain import Command, Decider, Invalid, Rejected
from shared.events import DomainEvent

MAX_FEE_CENTS = 10_000_000  # $100,000.00 a unit: more is a typo, not a fee
MAX_FEES = 5_000  # rows a version: every CPT and HCPCS code an office bills, and then some


class PublishFeeSchedule(Command):
    payer_id: str
    effective_from: date
    fees: tuple[Fee, ...]
    published_at: AwareDatetime


def check_fees(fees: tuple[Fee, ...]) -> None:
    if not fees:
        raise Invalid("a fee schedule version needs at least one fee")
    if len(fees) > MAX_FEES:
        raise Invalid(f"a fee schedule version lists at most {MAX_FEES} fees")
    seen: set[tuple[str, str]] = set()
    for fee in fees:
        if not is_procedure_code(fee.code):
            raise Invalid(f"{fee.code!r} is not a CPT or HCPCS procedure code")
        if fee.modifier and not is_modifier(fee.modifier):
            raise Invalid(f"modifier {fee.modifier!r} of {fee.code} is not two letters or digits")
        if not 0 <= fee.amount_cents <= MAX_FEE_CENTS:
            raise Invalid(
                f"the fee of {fee.code} must be from 0 to {MAX_FEE_CENTS} cents, "
                f"not {fee.amount_cents}"
            )
        key = (fee.code, fee.modifier)
        if key in seen:
            shown = f"{fee.code}-{fee.modifier}" if fee.modifier else fee.code
            raise Invalid(f"{shown} is listed twice")
        seen.add(key)


def decide(state: FeeSchedule, command: PublishFeeSchedule) -> list[DomainEvent]:
    check_fees(command.fees)
    latest = state.versions[-1] if state.versions else None
    if (
        latest is not None
        and latest.effective_from == command.effective_from
        and set(latest.fees) == set(command.fees)
    ):
        raise Rejected(
            f"these fees from {command.effective_from} are published already as version "
            f"{latest.schedule_version}"
        )
    return [
        FeeScheduleVersionPublished(
            payer_id=command.payer_id,
            schedule_version=(latest.schedule_version if latest else 0) + 1,
            effective_from=command.effective_from,
            fees=command.fees,
            published_at=command.published_at,
        )
    ]


fee_schedule = Decider(initial=FeeSchedule(), evolve=evolve, decide=decide)
