"""The patient's side on the service layer: what patients owe, assessed by the reaction from
adjudications (the last payer's only), their reversals and self-pay charges, once per source
event however often it is delivered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.billing.app import UseCases
from services.billing.application.patients import AssessPatients, Patients
from services.billing.domain import streams
from services.billing.domain.claims import charge_facts, claim_id_for
from services.billing.domain.events import (
    SELF_PAY,
    Adjustment,
    ChargeCorrected,
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    PatientResponsibilityAssessed,
)
from services.billing.domain.patient_ledger import Ledger
from shared.kit import Assembled
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts
from tests.service.conftest import META
from tests.service.test_billing_claims import made, primary_adjudication, submitted
from tests.support import wait_until

Built = Assembled[UseCases]
AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@pytest.fixture
def facts(billing_service: Built) -> Facts:
    return Facts(billing_service.kit.handler, META)


def patients_of(built: Built) -> Patients:
    return built.use_cases.patients


async def ledger_when(
    built: Built, ok: Callable[[Ledger], object], patient: str = "pat-1"
) -> Ledger:
    async def probe() -> Ledger | None:
        state = await patients_of(built).ledger(META.tenant, patient)
        return state if ok(state) else None

    found: Ledger | None = await wait_until(probe, message="the patient's ledger")
    assert found is not None
    return found


def assessments(state: Ledger) -> list[tuple[str, int]]:
    return [
        (e.reason, e.amount_cents)
        for e in state.entries
        if isinstance(e, PatientResponsibilityAssessed)
    ]


async def redeliver_all(built: Built, stream: str) -> None:
    reaction = AssessPatients(patients_of(built))
    for stored in await built.kit.store.load(stream):
        await reaction.react(built.kit.handler.registry.decode(stored), stored)


async def test_a_released_self_pay_charge_is_owed_whole_once(
    billing_service: Built, facts: Facts
) -> None:
    await facts.clinic("north")
    await facts.patient("pat-1")
    await facts.charge("appt-1", "pat-1", payer_id=SELF_PAY)
    state = await ledger_when(billing_service, lambda s: s.balance_cents)
    assert assessments(state) == [("self_pay", TOTAL_CENTS)]
    version = await billing_service.kit.store.version(streams.patient_ledger(META.tenant, "pat-1"))
    await redeliver_all(billing_service, streams.charge(META.tenant, "appt-1"))
    after = await billing_service.kit.store.version(streams.patient_ledger(META.tenant, "pat-1"))
    assert after == version


async def test_a_self_pay_charge_moved_to_a_payer_is_owed_no_more(
    billing_service: Built, facts: Facts
) -> None:
    await facts.clinic("north", "aetna")
    await facts.patient("pat-1")
    await facts.charge("appt-1", "pat-1", payer_id=SELF_PAY)
    await ledger_when(billing_service, lambda s: s.balance_cents == TOTAL_CENTS)
    charge = await patients_of(billing_service).state(
        streams.charge(META.tenant, "appt-1"), charge_facts
    )
    corrected = ChargeCorrected(
        charge_id="appt-1",
        diagnoses=charge.diagnoses,
        lines=charge.lines,
        reason="insurance found",
        corrected_at=AT,
        payer_id="aetna",
    )
    await facts.record(streams.charge(META.tenant, "appt-1"), corrected)
    state = await ledger_when(billing_service, lambda s: len(assessments(s)) == 2)
    assert assessments(state) == [("self_pay", TOTAL_CENTS), ("self_pay", -TOTAL_CENTS)]
    assert state.balance_cents == 0


async def test_the_only_payers_adjudication_is_owed_by_reason_once(
    billing_service: Built, facts: Facts
) -> None:
    await facts.clinic("north", "aetna")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna")
    claim_id = await submitted(billing_service, facts, "appt-1")
    eob = primary_adjudication()
    eob["adjustments"] = [
        *eob["adjustments"],
        Adjustment(group="PR", reason="1", amount_cents=500),
        Adjustment(group="PR", reason="204", amount_cents=100),
    ]
    eob["patient_responsibility_cents"] = 2400 + 500 + 100 + 50  # 50 explained by nothing
    await billing_service.use_cases.claims.adjudicate(META, claim_id, **eob)
    state = await ledger_when(billing_service, lambda s: s.balance_cents)
    assert sorted(assessments(state)) == sorted(
        [("deductible", 500), ("not_covered", 100), ("coinsurance", 2400), ("other", 50)]
    )
    version = await billing_service.kit.store.version(streams.patient_ledger(META.tenant, "pat-1"))
    await redeliver_all(billing_service, streams.claim(META.tenant, claim_id))
    after = await billing_service.kit.store.version(streams.patient_ledger(META.tenant, "pat-1"))
    assert after == version


async def test_a_payer_followed_by_another_assesses_nothing_the_last_one_does(
    billing_service: Built, facts: Facts
) -> None:
    await facts.clinic("north", "aetna", "bcbs")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna", priority=1)
    await facts.coverage("pat-1", "bcbs", priority=2)
    primary = await submitted(billing_service, facts, "appt-1")
    await billing_service.use_cases.claims.adjudicate(META, primary, **primary_adjudication())
    secondary = await made(billing_service, "appt-1", ("2",))
    assert secondary.claim_id == claim_id_for("appt-1", "2")
    outcome = await patients_of(billing_service).assess_adjudication(
        META,
        ClaimAdjudicated(
            claim_id=primary,
            outcome="partially_paid",
            paid_cents=9600,
            patient_responsibility_cents=2400,
            payer_claim_control_number="AET1",
            adjudicated_on=DAY,
            recorded_at=AT,
        ),
        "primary-event",
    )
    assert outcome is None
    assert (await patients_of(billing_service).ledger(META.tenant, "pat-1")).entries == ()
    # The secondary's adjudication (recorded as a remittance would) assesses what is left.
    await facts.record(
        streams.claim(META.tenant, secondary.claim_id),
        ClaimAdjudicated(
            claim_id=secondary.claim_id,
            outcome="partially_paid",
            paid_cents=1400,
            patient_responsibility_cents=1000,
            payer_claim_control_number="BC1",
            adjustments=(Adjustment(group="PR", reason="3", amount_cents=1000),),
            adjudicated_on=DAY,
            recorded_at=AT,
            posting_id="post-1",
            remittance_id="rem-1",
        ),
    )
    state = await ledger_when(billing_service, lambda s: s.balance_cents)
    assert assessments(state) == [("copay", 1000)]
    # ... and the secondary's reversal takes it back.
    await facts.record(
        streams.claim(META.tenant, secondary.claim_id),
        ClaimAdjudicationReversed(
            claim_id=secondary.claim_id,
            posting_id="post-2",
            reverses="post-1",
            remittance_id="rem-2",
            payer_claim_control_number="BC1",
            paid_cents=1400,
            patient_responsibility_cents=1000,
            reversed_on=DAY,
            recorded_at=AT,
        ),
    )
    state = await ledger_when(billing_service, lambda s: len(assessments(s)) == 2)
    assert assessments(state) == [("copay", 1000), ("copay", -1000)]
    assert state.balance_cents == 0
    version = await billing_service.kit.store.version(streams.patient_ledger(META.tenant, "pat-1"))
    await redeliver_all(billing_service, streams.claim(META.tenant, secondary.claim_id))
    after = await billing_service.kit.store.version(streams.patient_ledger(META.tenant, "pat-1"))
    assert after == version


async def test_payments_refunds_and_write_offs_on_the_ledger(
    billing_service: Built, facts: Facts
) -> None:
    await facts.clinic("north")
    await facts.patient("pat-1")
    await facts.charge("appt-1", "pat-1", payer_id=SELF_PAY)
    await ledger_when(billing_service, lambda s: s.balance_cents == TOTAL_CENTS)
    patients = patients_of(billing_service)
    await patients.receive_payment(
        META,
        "pat-1",
        payment_id="pay-1",
        amount_cents=TOTAL_CENTS + 700,
        method="card",
        site_id="north",
        reference="auth 1234",
    )
    done = await patients.refund(
        META, "pat-1", amount_cents=700, method="card", reason="overpaid", payment_id="pay-1"
    )
    assert done.state.balance_cents == 0
