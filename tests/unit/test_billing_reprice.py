"""A self-pay charge repriced under a coverage billing learnt after the visit was charged:
given these events, when `RepriceCharge`, then these events."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from services.billing.domain import charges
from services.billing.domain.charges import CODING, COVERAGE_LEARNT, Pricing, RepriceCharge
from services.billing.domain.claims import charge_facts
from services.billing.domain.events import (
    SELF_PAY,
    ChargeCorrected,
    ChargeHeld,
    FeeScheduleVersionPublished,
)
from services.billing.domain.fees import FeeSchedule
from tests.unit.test_billing_charges import AT, V1, V2, create, given, pricing, version, when
from tests.unit.test_billing_coding import Book

SELF = version(1, date(2026, 1, 1), {"99213": 8_000}).model_copy(update={"payer_id": SELF_PAY})


def self_pay(*versions: FeeScheduleVersionPublished) -> Pricing:
    return Pricing(
        payer_id=SELF_PAY,
        payer_name="self-pay",
        schedule=FeeSchedule(versions=versions or (SELF,)),
        book=Book(),
    )


def reprice(
    priced: Pricing | None = None, learnt_from: str = "coverage-1", claimed: bool = False
) -> RepriceCharge:
    return RepriceCharge(
        charge_id="appt-1",
        pricing=priced or pricing(V1, V2),
        claimed=claimed,
        learnt_from=learnt_from,
        corrected_at=AT,
    )


def test_a_self_pay_charge_is_priced_under_the_coverage_s_schedule_on_its_date() -> None:
    state, made = given(create(priced=self_pay()))
    assert state.status == "released"
    assert [line.fee_cents for line in state.lines] == [8_000]
    [corrected] = when(state, reprice())
    assert isinstance(corrected, ChargeCorrected)
    assert (corrected.reason, corrected.payer_id, corrected.learnt_from) == (
        COVERAGE_LEARNT,
        "acme",
        "coverage-1",
    )
    # V1 is in force on 26 Nov 2026 (V2 from 1 Dec): the date of service's, not the latest.
    assert (corrected.fee_schedule_version, [ln.fee_cents for ln in corrected.lines]) == (
        1,
        [10_000],
    )
    assert corrected.diagnoses == state.diagnoses
    after = charges.charge.fold([*made, corrected])
    assert (after.payer_id, after.fee_schedule_version, after.status) == ("acme", 1, "released")
    facts = charge_facts.fold([*made, corrected])
    assert (facts.payer_id, facts.total_cents) == ("acme", 10_000)


def test_a_redelivered_coverage_reprices_nothing() -> None:
    state, _ = given(create(priced=self_pay()), reprice())
    assert state.payer_id == "acme"
    assert when(state, reprice()) == []
    assert state.learnt == frozenset({"coverage-1"})


def test_the_same_coverage_id_again_reprices_nothing_even_if_self_pay_again() -> None:
    state, _ = given(create(priced=self_pay()), reprice())
    assert when(replace(state, payer_id=SELF_PAY), reprice()) == []


def test_a_charge_with_a_claim_is_not_repriced() -> None:
    state, _ = given(create(priced=self_pay()))
    assert when(state, reprice(claimed=True)) == []


def test_a_charge_priced_for_a_payer_is_not_repriced() -> None:
    state, _ = given(create())
    assert when(state, reprice(learnt_from="coverage-2")) == []


def test_no_schedule_in_force_for_the_payer_holds_the_repriced_charge_for_coding() -> None:
    state, _ = given(create(priced=self_pay()))
    later = version(3, date(2027, 1, 1), {"99213": 99_000})
    corrected, held = when(state, reprice(pricing(later)))
    assert isinstance(corrected, ChargeCorrected)
    assert corrected.fee_schedule_version is None
    assert corrected.issues
    assert isinstance(held, ChargeHeld)
    assert held.reason == CODING
