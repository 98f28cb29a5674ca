"""What finance learns of billing (payers' classes, charges, claims, patient payments) onto its
own streams: each billing event once, a payer's latest definition holding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from services.billing.contracts import (
    ChargeCreated,
    ClaimCreated,
    PatientPaymentReceived,
    PayerDefined,
)
from services.finance.application.learning import billing_fact
from services.finance.domain.events import (
    ChargeLearnt,
    ClaimLearnt,
    PatientPaymentLearnt,
    PayerClassLearnt,
)
from services.finance.domain.learning import BillingFact, LearnOfBilling, learnt
from shared.events import DomainEvent

T0 = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)


def decide(given: Sequence[DomainEvent], fact: BillingFact) -> list[DomainEvent]:
    return list(learnt.decide(learnt.fold(given), LearnOfBilling(fact=fact)))


def _payer(indicator: str, learnt_from: str) -> PayerClassLearnt:
    fact = billing_fact(
        PayerDefined(
            payer_id="mcare", name="Medicare", x12_payer_id="00001",
            claim_filing_indicator=indicator, defined_at=T0,
        ),
        learnt_from,
    )  # fmt: skip
    assert isinstance(fact, PayerClassLearnt)
    return fact


def test_a_payer_s_class_is_learnt_once_and_its_latest_definition_holds() -> None:
    first = _payer("MB", "evt-1")
    assert (first.payer_class, first.claim_filing_indicator) == ("medicare", "MB")
    assert decide([], first) == [first]
    assert decide([first], first) == []  # delivered again: nothing
    later = _payer("CI", "evt-2")
    assert decide([first], later) == [later]
    state = learnt.fold([first, later])
    assert state.latest == later
    assert state.sources == frozenset({"evt-1", "evt-2"})


def test_a_charge_a_claim_and_a_patient_payment_keep_what_revenue_is_decided_with() -> None:
    charge = ChargeCreated(
        charge_id="appt-1", appointment_id="appt-1", patient_id="pat-1", site_id="north",
        provider_id="dr-1", date_of_service=date(2026, 6, 28), diagnoses=("Z00.00",), lines=(),
        payer_id="mcare", fee_schedule_version=1, created_at=T0, learnt_from="visit-1",
    )  # fmt: skip
    assert billing_fact(charge, "evt-3") == ChargeLearnt(
        charge_id="appt-1", site_id="north", date_of_service=date(2026, 6, 28),
        learnt_from="evt-3",
    )  # fmt: skip
    claim = ClaimCreated(
        claim_id="clm-1", patient_id="pat-1", payer_id="mcare", coverage_id="cov-1", priority=1,
        site_id="north", provider_id="dr-1", charge_ids=("appt-1",), total_cents=10_000,
        created_at=T0,
    )  # fmt: skip
    assert billing_fact(claim, "evt-4") == ClaimLearnt(
        claim_id="clm-1", site_id="north", payer_id="mcare", charge_ids=("appt-1",),
        learnt_from="evt-4",
    )  # fmt: skip
    payment = PatientPaymentReceived(
        patient_id="pat-1", payment_id="pay-1", amount_cents=2_000, method="card",
        site_id="south", received_by="desk-1", received_at=T0,
    )  # fmt: skip
    fact = billing_fact(payment, "evt-5")
    assert fact == PatientPaymentLearnt(
        payment_id="pay-1", site_id="south", received_on=date(2026, 7, 15), amount_cents=2_000,
        learnt_from="evt-5",
    )  # fmt: skip
    assert decide([fact], fact) == []
    assert billing_fact(T0_EVENT, "evt-6") is None


T0_EVENT = ChargeLearnt(
    charge_id="x", site_id="north", date_of_service=date(2026, 1, 1), learnt_from="e"
)  # finance's own event: nothing billing told
