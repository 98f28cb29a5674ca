"""What finance learns from billing's events, onto its own streams (`domain/learning.py`): a
payer's class (`PayerDefined`), a charge's site and date of service (`ChargeCreated`), a
claim's site, payer and charges (`ClaimCreated`) and a patient payment's site and day
(`PatientPaymentReceived`). The reaction `finance.learn_from_billing` records each once per
billing event; revenue (`application/revenue.py`) folds these streams to decide, and waits
(retries) for a fact not learnt yet.
"""

from __future__ import annotations

from typing import Any

from services.billing.contracts import (
    ChargeCreated,
    ClaimCreated,
    PatientPaymentReceived,
    PayerDefined,
)
from services.finance.domain import streams
from services.finance.domain.accounts import payer_class_of
from services.finance.domain.events import (
    ChargeLearnt,
    ClaimLearnt,
    PatientPaymentLearnt,
    PayerClassLearnt,
)
from services.finance.domain.learning import BillingFact, LearnOfBilling, learnt
from shared.commands import Outcome
from shared.errors import RetryLater
from shared.events import DomainEvent, Envelope, Metadata
from shared.usecases import UseCases

SYSTEM = "system:finance"


def caused_by(envelope: Envelope) -> Metadata:
    """The metadata of what finance records because of billing's event."""
    return Metadata.reacting_to(envelope, SYSTEM)


def billing_fact(event: DomainEvent, event_id: str) -> BillingFact | None:
    """The fact a billing event tells finance (None: nothing finance keeps)."""
    match event:
        case PayerDefined():
            indicator = event.claim_filing_indicator
            return PayerClassLearnt(
                payer_id=event.payer_id,
                claim_filing_indicator=indicator,
                payer_class=payer_class_of(indicator),
                learnt_from=event_id,
            )
        case ChargeCreated():
            return ChargeLearnt(
                charge_id=event.charge_id,
                site_id=event.site_id,
                date_of_service=event.date_of_service,
                learnt_from=event_id,
            )
        case ClaimCreated():
            return ClaimLearnt(
                claim_id=event.claim_id,
                site_id=event.site_id,
                payer_id=event.payer_id,
                charge_ids=event.charge_ids,
                learnt_from=event_id,
            )
        case PatientPaymentReceived():
            return PatientPaymentLearnt(
                payment_id=event.payment_id,
                site_id=event.site_id,
                received_on=event.received_at.date(),
                amount_cents=event.amount_cents,
                learnt_from=event_id,
            )
    return None


def _stream(tenant: str, fact: BillingFact) -> str:
    match fact:
        case PayerClassLearnt():
            return streams.billing_payer(tenant, fact.payer_id)
        case ChargeLearnt():
            return streams.billing_charge(tenant, fact.charge_id)
        case ClaimLearnt():
            return streams.billing_claim(tenant, fact.claim_id)
        case PatientPaymentLearnt():
            return streams.billing_payment(tenant, fact.payment_id)


class Learning(UseCases):
    """Recording what finance learns of billing, and folding it back from the event store."""

    async def learn(self, event: DomainEvent, envelope: Envelope) -> Outcome[Any] | None:
        """Record what `event` (billing's, as delivered) tells finance; None: nothing."""
        fact = billing_fact(event, envelope.id)
        if fact is None:
            return None
        return await self.record(caused_by(envelope), fact)

    async def record(self, meta: Metadata, fact: BillingFact) -> Outcome[Any]:
        """Record one fact on its stream (nothing when its billing event is learnt already)."""
        stream = _stream(meta.tenant, fact)
        return await self.decide(stream, learnt, LearnOfBilling(fact=fact), meta)

    async def payer_class(self, tenant: str, payer_id: str) -> PayerClassLearnt:
        fact = (await self.state(streams.billing_payer(tenant, payer_id), learnt)).latest
        if not isinstance(fact, PayerClassLearnt):
            raise RetryLater(f"payer {payer_id} is not learnt yet")
        return fact

    async def charge(self, tenant: str, charge_id: str) -> ChargeLearnt:
        fact = (await self.state(streams.billing_charge(tenant, charge_id), learnt)).latest
        if not isinstance(fact, ChargeLearnt):
            raise RetryLater(f"charge {charge_id} is not learnt yet")
        return fact

    async def claim(self, tenant: str, claim_id: str) -> ClaimLearnt:
        fact = (await self.state(streams.billing_claim(tenant, claim_id), learnt)).latest
        if not isinstance(fact, ClaimLearnt):
            raise RetryLater(f"claim {claim_id} is not learnt yet")
        return fact

    async def payment(self, tenant: str, payment_id: str) -> PatientPaymentLearnt:
        fact = (await self.state(streams.billing_payment(tenant, payment_id), learnt)).latest
        if not isinstance(fact, PatientPaymentLearnt):
            raise RetryLater(f"patient payment {payment_id} is not learnt yet")
        return fact


class LearnFromBilling:
    """Payers' classes, charges, claims and patient payments, each recorded once on finance's
    own streams."""

    name = "finance.learn_from_billing"
    contexts = ("billing",)

    def __init__(self, learning: Learning) -> None:
        self._learning = learning

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        await self._learning.learn(event, envelope)
