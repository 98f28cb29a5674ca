"""What finance learns of billing's payers, charges, claims and patient payments, recorded on
finance's own streams (`streams.billing_payer` and the like) so that revenue is decided from
finance's event store, never from a read model.

Each fact carries `learnt_from`, the id of the billing event it came from: a fact whose source
the stream has already learnt records nothing (a redelivery, two reactors racing). A payer's
later definition is learnt too: the latest holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from services.finance.domain.events import (
    ChargeLearnt,
    ClaimLearnt,
    PatientPaymentLearnt,
    PayerClassLearnt,
)
from shared.domain import Command, Decider
from shared.events import DomainEvent

BillingFact = PayerClassLearnt | ChargeLearnt | ClaimLearnt | PatientPaymentLearnt


class Learnt(BaseModel):
    """One stream's facts: the billing events learnt from, and the latest fact (None: none)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: frozenset[str] = frozenset()
    latest: BillingFact | None = None


class LearnOfBilling(Command):
    fact: BillingFact


def _evolve(state: Learnt, event: DomainEvent) -> Learnt:
    if isinstance(event, PayerClassLearnt | ChargeLearnt | ClaimLearnt | PatientPaymentLearnt):
        return Learnt(sources=state.sources | {event.learnt_from}, latest=event)
    return state


def _decide(state: Learnt, command: LearnOfBilling) -> Sequence[DomainEvent]:
    if command.fact.learnt_from in state.sources:
        return []  # learnt already: a redelivery
    return [command.fact]


learnt: Decider[Learnt, LearnOfBilling] = Decider(Learnt(), _evolve, _decide)
