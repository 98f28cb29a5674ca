"""The patient's side on the service layer: what patients owe, assessed by the reaction from
adjudications (the last payer's only), their reversals and self-pay charges, once per source
event however often it is delivered."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

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
    PatientForgottenLearnt,
    PatientResponsibilityAssessed,
    StatementIssued,
)
from services.billing.domain.patient_ledger import Ledger
from services.billing.domain.statement_pdf import money
from shared.domain import Rejected
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


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def owing(built: Built, facts: Facts) -> None:
    await facts.clinic("north")
    await facts.patient("pat-1")
    await facts.charge("appt-1", "pat-1", payer_id=SELF_PAY)
    await ledger_when(built, lambda s: s.balance_cents == TOTAL_CENTS)
    await patients_of(built).receive_payment(
        META, "pat-1", payment_id="pay-1", amount_cents=2000, method="cash", site_id="north"
    )


async def test_a_statement_is_written_again_byte_for_byte_with_name_items_and_balance(
    billing_service: Built, facts: Facts
) -> None:
    await owing(billing_service, facts)
    statements = billing_service.use_cases.statements
    done = await statements.issue(META, "pat-1", date(2026, 11, 30), statement_id="st-1")
    [issued] = [e for e in done.events if isinstance(e, StatementIssued)]
    assert issued.balance_cents == TOTAL_CENTS - 2000
    # A later payment changes the ledger, never the statement already issued.
    await patients_of(billing_service).receive_payment(
        META, "pat-1", payment_id="pay-2", amount_cents=500, method="cash", site_id="north"
    )
    pdf = await statements.pdf(META.tenant, "pat-1", "st-1")
    assert hashlib.sha256(pdf).hexdigest() == issued.digest
    text = pdf_text(pdf)
    assert "Jane Q Doe" in text
    assert "Springfield" in text
    assert "Riverside Medical Group" in text
    assert "Visit appt-1: self-pay" in text
    assert "Payment (cash)" in text
    assert f"Balance due: {money(TOTAL_CENTS - 2000)}" in text
    assert "pay-2" not in text
    assert "-$5.00" not in text


async def test_a_forgotten_patient_gets_no_statement(billing_service: Built, facts: Facts) -> None:
    await owing(billing_service, facts)
    forgotten = PatientForgottenLearnt(patient_id="pat-1", learnt_from="forget-1")
    await facts.record(streams.patient_account(META.tenant, "pat-1"), forgotten)
    with pytest.raises(Rejected):
        await billing_service.use_cases.statements.issue(META, "pat-1", date(2026, 11, 30))


async def test_the_monthly_run_issues_one_statement_a_month_and_moves_stages(
    billing_service: Built, facts: Facts
) -> None:
    await owing(billing_service, facts)
    statements = billing_service.use_cases.statements

    async def listed() -> bool:
        return await patients_of(billing_service).tenants() == [META.tenant]

    await wait_until(listed, message="the balances read model")
    assert await statements.run(META, date(2026, 12, 1)) == 1
    assert await statements.run(META, date(2026, 12, 2)) == 0  # once a month
    state = await patients_of(billing_service).ledger(META.tenant, "pat-1")
    assert [s.period_end for s in state.statements] == [date(2026, 11, 30)]
    assert state.stage == "statement"
    await statements.run(META, date(2026, 12, 31))  # 31 days after the first statement
    state = await patients_of(billing_service).ledger(META.tenant, "pat-1")
    assert state.stage == "reminder"
    assert [s.period_end for s in state.statements] == [date(2026, 11, 30)]
    await statements.run(META, date(2027, 1, 1))  # December's statement: still owed
    state = await patients_of(billing_service).ledger(META.tenant, "pat-1")
    assert len(state.statements) == 2
    assert state.stage == "reminder"
