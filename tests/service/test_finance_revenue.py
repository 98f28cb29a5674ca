"""Finance's revenue through its use cases (no HTTP), decided from finance's own event store:
what billing's events told it (a payment's site, a payer's class, a claim's site and charges)
is finance's own facts, waited for (RetryLater) until learnt; refunds, PLB adjustments and
write-offs become revenue once; nothing is lost before cost centres are set."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.billing.contracts import (
    ChargeCreated,
    ClaimCreated,
    ClaimWrittenOff,
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    PayerDefined,
    ProviderAdjustmentPosted,
)
from services.finance.app import UseCases
from services.finance.application.learning import billing_fact
from services.finance.domain import streams
from services.finance.domain.events import RevenueRecognised
from shared.errors import RetryLater
from shared.events import DomainEvent
from shared.kit import Assembled
from tests.service.conftest import META

T0 = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


async def _learn(app: UseCases, event: DomainEvent, event_id: str) -> None:
    fact = billing_fact(event, event_id)
    assert fact is not None
    await app.learning.record(META, fact)
    await app.learning.record(META, fact)  # delivered again: recorded once


async def _recognised(built: Assembled[Any], learnt_from: str) -> list[RevenueRecognised]:
    envelopes = await built.kit.store.load(streams.revenue("acme", learnt_from))
    return [
        RevenueRecognised.model_validate(e.data)
        for e in envelopes
        if e.type.endswith(".RevenueRecognised.v1")
    ]


async def test_a_refund_takes_back_the_payment_s_site_once_learnt_without_cost_centres(
    finance_service: Assembled[Any],
) -> None:
    app: UseCases = finance_service.use_cases
    paid = PatientPaymentReceived(
        patient_id="pat-1", payment_id="pay-1", amount_cents=3_000, method="card",
        site_id="north", received_by="desk-1", received_at=T0,
    )  # fmt: skip
    refund = PatientRefunded(
        patient_id="pat-1", refund_id="ref-1", amount_cents=500, method="card", reason="over",
        refunded_by="biller-1", refunded_at=datetime(2026, 2, 3, tzinfo=UTC), payment_id="pay-1",
    )  # fmt: skip
    with pytest.raises(RetryLater, match="pay-1"):
        await app.revenue.refunded(META, refund, "evt-refund")
    await _learn(app, paid, "evt-pay")
    await app.revenue.patient_paid(META, paid, "evt-pay")
    await app.revenue.refunded(META, refund, "evt-refund")
    await app.revenue.refunded(META, refund, "evt-refund")  # delivered again
    [payment] = await _recognised(finance_service, "evt-pay")
    assert (payment.site_id, payment.amount_cents, payment.account_code) == ("north", 3_000, "4400")
    [taken] = await _recognised(finance_service, "evt-refund")
    assert (taken.kind, taken.site_id, taken.amount_cents) == ("refund", "north", -500)
    assert (taken.date_of_service, taken.posted_on) == (date(2026, 1, 20), date(2026, 2, 3))
    chart = await app.accounts.chart("acme")
    assert chart.accounts  # the default chart, on first use
    assert not chart.cost_centres
    credit = refund.model_copy(update={"refund_id": "ref-2", "payment_id": None})
    await app.revenue.refunded(META, credit, "evt-credit")
    [group] = await _recognised(finance_service, "evt-credit")
    assert (group.site_id, group.amount_cents) == ("", -500)  # the group's


async def test_a_plb_adjustment_is_the_group_s_on_its_payer_s_class(
    finance_service: Assembled[Any],
) -> None:
    app: UseCases = finance_service.use_cases
    plb = ProviderAdjustmentPosted(
        adjustment_id="R1-PLB0", remittance_id="R1", payer_id="mcare", provider_id="1234567893",
        fiscal_period_end=date(2026, 12, 31), reason="WO", reference="REF0", amount_cents=125,
        posted_at=T0,
    )  # fmt: skip
    with pytest.raises(RetryLater, match="mcare"):
        await app.revenue.provider_adjusted(META, plb, "evt-plb")
    payer = PayerDefined(
        payer_id="mcare", name="Medicare", x12_payer_id="00001", claim_filing_indicator="MB",
        defined_at=T0,
    )  # fmt: skip
    await _learn(app, payer, "evt-payer")
    await app.revenue.provider_adjusted(META, plb, "evt-plb")
    [adjusted] = await _recognised(finance_service, "evt-plb")
    assert (adjusted.kind, adjusted.site_id, adjusted.account_code) == ("adjustment", "", "4200")
    assert adjusted.amount_cents == -125  # positive amounts reduce the payment
    interest = plb.model_copy(update={"adjustment_id": "R1-PLB1", "amount_cents": -40})
    await app.revenue.provider_adjusted(META, interest, "evt-interest")
    [paid] = await _recognised(finance_service, "evt-interest")
    assert paid.amount_cents == 40


async def test_write_offs_are_kept_on_the_claim_s_or_the_charge_s_site_apart_from_cash(
    finance_service: Assembled[Any],
) -> None:
    app: UseCases = finance_service.use_cases
    written_off = ClaimWrittenOff(
        claim_id="clm-1", reason="timely filing", amount_cents=7_000, written_off_at=T0
    )
    with pytest.raises(RetryLater, match="clm-1"):
        await app.revenue.claim_written_off(META, written_off, "evt-wo")
    facts: list[tuple[DomainEvent, str]] = [
        (
            PayerDefined(
                payer_id="aetna", name="Aetna", x12_payer_id="60054",
                claim_filing_indicator="CI", defined_at=T0,
            ),
            "evt-payer",
        ),
        (
            ClaimCreated(
                claim_id="clm-1", patient_id="pat-1", payer_id="aetna", coverage_id="cov-1",
                priority=1, site_id="south", provider_id="dr-1", charge_ids=("appt-1",),
                total_cents=10_000, created_at=T0,
            ),
            "evt-claim",
        ),
    ]  # fmt: skip
    for event, event_id in facts:
        await _learn(app, event, event_id)
    with pytest.raises(RetryLater, match="appt-1"):
        await app.revenue.claim_written_off(META, written_off, "evt-wo")
    charge = ChargeCreated(
        charge_id="appt-1", appointment_id="appt-1", patient_id="pat-1", site_id="south",
        provider_id="dr-1", date_of_service=date(2026, 1, 5), diagnoses=("Z00.00",), lines=(),
        payer_id="aetna", fee_schedule_version=1, created_at=T0, learnt_from="visit-1",
    )  # fmt: skip
    await _learn(app, charge, "evt-charge")
    await app.revenue.claim_written_off(META, written_off, "evt-wo")
    [claim] = await _recognised(finance_service, "evt-wo")
    assert (claim.kind, claim.site_id, claim.account_code) == ("write_off", "south", "4100")
    assert (claim.amount_cents, claim.date_of_service) == (-7_000, date(2026, 1, 5))
    balance = PatientBalanceWrittenOff(
        patient_id="pat-1", write_off_id="wo-1", amount_cents=900, reason="small_balance",
        charge_id="appt-1", written_off_by="biller-1", written_off_at=T0,
    )  # fmt: skip
    await app.revenue.balance_written_off(META, balance, "evt-balance")
    [patient] = await _recognised(finance_service, "evt-balance")
    assert (patient.kind, patient.site_id, patient.account_code) == ("write_off", "south", "4400")
    assert patient.amount_cents == -900
