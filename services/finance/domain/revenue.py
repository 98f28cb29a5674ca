"""Revenue learnt from billing, on `streams.revenue(tenant, learnt_from)`: each billing event
that moves money (a payer's or a patient's payment, a refund, a reversal, an adjustment)
becomes revenue once, on the revenue account of its payer class, however often it is
delivered.

Payments are revenue; refunds and reversals take it back (the amount is negated here, so the
caller passes what billing recorded, positive); adjustments carry their own sign.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.finance.domain.accounts import Chart
from services.finance.domain.events import AccountCategory, RevenueKind, RevenueRecognised
from shared.domain import Command, Decider, Invalid
from shared.events import DomainEvent

TAKEN_BACK: frozenset[str] = frozenset({"refund", "reversal"})


class Recognition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    recognised: bool = False


class RecogniseRevenue(Command):
    learnt_from: str  # the billing event's id
    kind: RevenueKind
    payer_class: AccountCategory
    site_id: str
    amount_cents: int  # as billing recorded it
    date_of_service: date
    posted_on: date
    chart: Chart
    recognised_at: AwareDatetime


def _evolve(state: Recognition, event: DomainEvent) -> Recognition:
    if isinstance(event, RevenueRecognised):
        return Recognition(recognised=True)
    return state


def _decide(state: Recognition, command: RecogniseRevenue) -> list[DomainEvent]:
    if state.recognised:
        return []
    if command.amount_cents == 0:
        return []  # nothing moved: nothing to recognise
    if command.kind in TAKEN_BACK and command.amount_cents < 0:
        raise Invalid(f"a {command.kind} is passed as billing records it: positive")
    account = command.chart.revenue_account(command.payer_class)
    command.chart.check_site(command.site_id)
    sign = -1 if command.kind in TAKEN_BACK else 1
    return [
        RevenueRecognised(
            learnt_from=command.learnt_from,
            kind=command.kind,
            site_id=command.site_id,
            account_code=account.code,
            amount_cents=sign * command.amount_cents,
            date_of_service=command.date_of_service,
            posted_on=command.posted_on,
            recognised_at=command.recognised_at,
        )
    ]


revenue: Decider[Recognition, RecogniseRevenue] = Decider(Recognition(), _evolve, _decide)
