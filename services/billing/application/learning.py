"""What billing learns from scheduling (patients, their coverages, their forgetting) and from
staffing (rendering providers' names, NPIs and payer enrolments), from their published events
only, onto billing's own streams.

Two reactions, one per topic (`billing.learn_from_scheduling`, `billing.learn_from_staffing`),
turn each event that concerns billing into one fact on the patient's account or the provider's
stream (`domain/learning.py`), carrying the event's id: a redelivery records nothing. PHI
arrives sealed under the patient's key (in the key vault every service shares) and is copied
sealed: billing never opens it to learn it. When scheduling forgets a patient it destroys
their key first; billing then records the forgetting and drops what this process keeps folded
of the patient (`PhiVault.forget`, which destroys the already destroyed key again: a no-op).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.billing.domain import learning, streams
from services.billing.domain.events import (
    CoverageLearnt,
    EnrolmentLearnt,
    PatientForgottenLearnt,
    PatientLearnt,
    ProviderLearnt,
)
from services.billing.domain.providers import RenderingProvider
from services.billing.projections import learnt as view
from services.scheduling.contracts import CoverageRecorded, PatientForgotten, PatientRegistered
from services.staffing.contracts import (
    PROVIDER_ROLES,
    EmployeeHired,
    JobChanged,
    PayerEnrolmentChanged,
    ProviderDetailsRecorded,
)
from shared.commands import CommandHandler, Outcome
from shared.documents.port import Document
from shared.domain import NotFound
from shared.events import DomainEvent, Envelope, Metadata
from shared.phivault import PatientForgottenError
from shared.readmodels import ReadModels, public
from shared.usecases import UseCases

SYSTEM = "system:billing"


def caused_by(envelope: Envelope) -> Metadata:
    """The metadata of what billing records because of another service's event."""
    return Metadata.reacting_to(envelope, SYSTEM)


def patient_fact(event: DomainEvent, event_id: str) -> learning.PatientFact | None:
    """The fact a scheduling event tells billing of a patient (None: nothing billing keeps).
    PHI values are copied as they came: sealed."""
    match event:
        case PatientRegistered():
            return PatientLearnt(
                patient_id=event.patient_id,
                name=event.name,
                birth_date=event.birth_date,
                sex=event.sex,
                address=event.address,
                learnt_from=event_id,
            )
        case CoverageRecorded():
            return CoverageLearnt(
                patient_id=event.patient_id,
                coverage_id=event.coverage_id,
                payer_id=event.payer_id,
                plan=event.plan,
                priority=event.priority,
                relationship=event.relationship,
                member_id=event.member_id,
                subscriber_name=event.subscriber_name,
                group_number=event.group_number,
                learnt_from=event_id,
            )
        case PatientForgotten():
            return PatientForgottenLearnt(patient_id=event.patient_id, learnt_from=event_id)
    return None


def provider_fact(event: DomainEvent, event_id: str) -> learning.ProviderFact | None:
    """The fact a staffing event tells billing of a rendering provider (None: nothing billing
    keeps: staff in roles that see no patients render nothing)."""
    match event:
        case EmployeeHired() if event.role in PROVIDER_ROLES:
            return ProviderLearnt(
                provider_id=event.employee_id, name=event.name, learnt_from=event_id
            )
        case JobChanged() if event.role in PROVIDER_ROLES and event.name is not None:
            return ProviderLearnt(
                provider_id=event.employee_id, name=event.name, learnt_from=event_id
            )
        case ProviderDetailsRecorded():
            return ProviderLearnt(
                provider_id=event.employee_id,
                npi=event.npi,
                taxonomy_code=event.taxonomy_code,
                learnt_from=event_id,
            )
        case PayerEnrolmentChanged():
            return EnrolmentLearnt(
                provider_id=event.employee_id,
                payer_id=event.payer_id,
                status=event.status,
                effective_from=event.effective_from,
                effective_until=event.effective_until,
                learnt_from=event_id,
            )
    return None


class Learning(UseCases):
    """Recording what billing learns, and reading it back (the learnt read models)."""

    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    async def learn(self, event: DomainEvent, envelope: Envelope) -> Outcome[Any] | None:
        """Record what `event` (scheduling's or staffing's, as delivered) tells billing."""
        meta = caused_by(envelope)
        patient = patient_fact(event, envelope.id)
        if patient is not None:
            return await self.learn_of_patient(meta, patient)
        provider = provider_fact(event, envelope.id)
        if provider is not None:
            return await self.learn_of_provider(meta, provider)
        return None

    async def learn_of_patient(
        self, meta: Metadata, fact: learning.PatientFact
    ) -> Outcome[Any] | None:
        """Record a fact on the patient's account. None: the patient's key is gone, so a fact
        with a value still to seal (a field added after the event was recorded) is not kept:
        the forgetting is learnt from its own event."""
        stream = streams.patient_account(meta.tenant, fact.patient_id)
        command = learning.LearnOfPatient(patient_id=fact.patient_id, fact=fact)
        try:
            outcome = await self._handler.handle(
                stream, learning.patient_account, command, meta, subject=fact.patient_id
            )
        except PatientForgottenError:
            return None
        if isinstance(fact, PatientForgottenLearnt) and self._handler.vault is not None:
            # After the record, so that the state just folded to decide it goes too; on every
            # delivery, so that a crash in between is made good by the redelivery.
            await self._handler.vault.forget(meta.tenant, fact.patient_id)
        return outcome

    async def learn_of_provider(self, meta: Metadata, fact: learning.ProviderFact) -> Outcome[Any]:
        stream = streams.rendering_provider(meta.tenant, fact.provider_id)
        command = learning.LearnOfProvider(provider_id=fact.provider_id, fact=fact)
        return await self._handler.handle(
            stream, learning.rendering_provider, command, meta, subject=fact.provider_id
        )

    # ------------------------------------------------------------------------- reads

    async def account(self, tenant: str, patient_id: str) -> Document:
        """The patient's account as the read model has it, PHI sealed (404: nothing learnt)."""
        doc = await self._read_models.get(
            view.ACCOUNTS_PROJECTION, view.ACCOUNTS, view.doc_id(tenant, patient_id)
        )
        found = public(doc)
        if found is None:
            raise NotFound(f"billing knows no patient {patient_id}")
        return found

    async def provider(self, tenant: str, provider_id: str, today: date) -> Document:
        """The rendering provider as the read model has it, with the payers they are enrolled
        with `today` (as a claim dated today would be judged)."""
        doc = public(
            await self._read_models.get(
                view.PROVIDERS_PROJECTION, view.PROVIDERS, view.doc_id(tenant, provider_id)
            )
        )
        if doc is None:
            raise NotFound(f"billing knows no provider {provider_id}")
        enrolments = tuple(
            EnrolmentLearnt(provider_id=provider_id, learnt_from="", **e) for e in doc["enrolments"]
        )
        state = RenderingProvider(enrolments=enrolments)
        payers = dict.fromkeys(e.payer_id for e in enrolments)
        doc["enrolled_with"] = [p for p in payers if state.enrolled_with(p, today)]
        return doc


class LearnFromScheduling:
    """Patients, coverages and forgetting, each recorded on the patient's account once."""

    name = "billing.learn_from_scheduling"
    contexts = ("scheduling",)

    def __init__(self, learning: Learning) -> None:
        self._learning = learning

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        await self._learning.learn(event, envelope)


class LearnFromStaffing:
    """Providers' names, NPIs and payer enrolments, each recorded on their stream once."""

    name = "billing.learn_from_staffing"
    contexts = ("staffing",)

    def __init__(self, learning: Learning) -> None:
        self._learning = learning

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        await self._learning.learn(event, envelope)
