"""What billing learns of patients (from scheduling) and rendering providers (from staffing),
recorded on its own streams so that charges and claims decide from billing's event store.

Each fact carries `learnt_from`, the id of the event it came from: a fact whose source the
stream has already learnt records nothing (a redelivery, two reactors racing). Facts come from
several of the other services' streams, which the bus orders only within one stream, so any
fact is recorded whenever it comes: a coverage before the registration, an enrolment or an
NPI before the hire; the folds (`accounts.py`, `providers.py`) give the same state in any
order. Once a patient is forgotten nothing more is learnt of them: their key is destroyed, and
what was learnt reads back redacted.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.billing.domain import accounts, providers
from services.billing.domain.accounts import PatientAccount
from services.billing.domain.events import (
    CoverageLearnt,
    EnrolmentLearnt,
    PatientForgottenLearnt,
    PatientLearnt,
    ProviderLearnt,
)
from services.billing.domain.providers import RenderingProvider
from shared.domain import Command, Decider, Invalid
from shared.events import DomainEvent

PatientFact = PatientLearnt | CoverageLearnt | PatientForgottenLearnt
ProviderFact = ProviderLearnt | EnrolmentLearnt


class LearnOfPatient(Command):
    """Record a fact about a patient on their account stream (`streams.patient_account`)."""

    patient_id: str
    fact: PatientFact


class LearnOfProvider(Command):
    """Record a fact about a provider on their stream (`streams.rendering_provider`)."""

    provider_id: str
    fact: ProviderFact


def _learn_of_patient(state: PatientAccount, command: LearnOfPatient) -> Sequence[DomainEvent]:
    fact = command.fact
    if fact.patient_id != command.patient_id:
        raise Invalid(f"a fact of patient {fact.patient_id} is not {command.patient_id}'s")
    if fact.learnt_from in state.learnt:
        return []  # learnt already: a redelivery
    if state.forgotten:
        return []  # forgotten: nothing more is kept of them, the forgetting included
    return [fact]


def _learn_of_provider(state: RenderingProvider, command: LearnOfProvider) -> Sequence[DomainEvent]:
    fact = command.fact
    if fact.provider_id != command.provider_id:
        raise Invalid(f"a fact of provider {fact.provider_id} is not {command.provider_id}'s")
    if fact.learnt_from in state.learnt:
        return []
    if isinstance(fact, ProviderLearnt) and _tells_nothing_new(state, fact):
        return []  # say a change of job that kept the name: nothing billing uses changed
    return [fact]


def _tells_nothing_new(state: RenderingProvider, fact: ProviderLearnt) -> bool:
    return all(
        value is None or value == getattr(state, name)
        for name, value in (
            ("name", fact.name),
            ("npi", fact.npi),
            ("taxonomy_code", fact.taxonomy_code),
        )
    )


patient_account = Decider[PatientAccount, LearnOfPatient](
    PatientAccount(), accounts.evolve, _learn_of_patient
)
rendering_provider = Decider[RenderingProvider, LearnOfProvider](
    RenderingProvider(), providers.evolve, _learn_of_provider
)
