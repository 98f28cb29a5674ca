"""The patient ledger decider: given these events, when this command, then these events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from services.billing.application.patients import split
from services.billing.domain import patient_ledger as pl
from services.billing.domain.events import (
    Adjustment,
    ClaimAdjudicated,
    CollectionStageChanged,
    LineAdjudication,
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    PatientResponsibilityAssessed,
    PaymentPlanAgreed,
    PaymentPlanEnded,
    StatementIssued,
)
from shared.domain import Invalid, Rejected
from shared.events import DomainEvent

AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
P = "pat-1"


def assessed(charge: str, cents: int, day: int, learnt: str | None = None) -> DomainEvent:
    return PatientResponsibilityAssessed(
        patient_id=P,
        entry_id=f"e-{charge}-{cents}",
        charge_id=charge,
        claim_id=None,
        site_id="site-1",
        provider_id="prov-1",
        date_of_service=date(2026, 10, day),
        amount_cents=cents,
        reason="coinsurance",
        learnt_from=learnt or f"ev-{charge}-{cents}",
        assessed_at=AT,
    )


def paid(payment_id: str, cents: int, charge: str | None = None) -> DomainEvent:
    return PatientPaymentReceived(
        patient_id=P,
        payment_id=payment_id,
        amount_cents=cents,
        method="cash",
        charge_id=charge,
        site_id="site-1",
        received_by="u1",
        received_at=AT,
    )


def fold(events: Sequence[DomainEvent]) -> pl.Ledger:
    return pl.ledger.fold(events)


def receive(payment_id: str, cents: int, **kw: object) -> pl.ReceivePayment:
    return pl.ReceivePayment(
        patient_id=P,
        payment_id=payment_id,
        amount_cents=cents,
        method="cash",
        site_id="site-1",
        received_by="u1",
        received_at=AT,
        **kw,  # type: ignore[arg-type]
    )


def test_balance_is_assessed_less_paid_plus_refunded_less_written_off() -> None:
    state = fold(
        [
            assessed("c1", 5000, 1),
            paid("p1", 2000),
            PatientBalanceWrittenOff(
                patient_id=P,
                write_off_id="w1",
                amount_cents=500,
                reason="courtesy",
                written_off_by="u1",
                written_off_at=AT,
            ),
        ]
    )
    assert state.balance_cents == 2500
    assert state.item("c1") == pl.Item("c1", "site-1", "prov-1", date(2026, 10, 1), 5000, 2000, 500)


def test_a_payment_without_a_charge_goes_to_the_oldest_balance_first() -> None:
    state = fold([assessed("new", 3000, 20), assessed("old", 1000, 2), paid("p1", 1500)])
    old, new = state.item("old"), state.item("new")
    assert old is not None
    assert new is not None
    assert (old.balance_cents, new.balance_cents) == (0, 2500)


def test_an_overpayment_is_credit_applied_to_the_next_visit() -> None:
    state = fold([assessed("c1", 1000, 1), paid("p1", 1500)])
    assert (state.balance_cents, state.credit_cents) == (-500, 500)
    state = fold([*state.entries, assessed("c2", 2000, 5)])
    item = state.item("c2")
    assert item is not None
    assert item.paid_cents == 500
    assert state.balance_cents == 1500


def test_a_copay_at_check_in_waits_for_its_visit() -> None:
    state = fold([assessed("old", 1000, 1), paid("p1", 2500, charge="visit")])
    assert state.balance_cents == -1500  # a credit meanwhile; the old balance untouched
    state = fold([*state.entries, assessed("visit", 2500, 9)])
    visit, old = state.item("visit"), state.item("old")
    assert visit is not None
    assert old is not None
    assert (visit.balance_cents, old.balance_cents) == (0, 1000)


def test_a_reversal_gives_what_was_paid_back_to_credit() -> None:
    state = fold([assessed("c1", 1000, 1), paid("p1", 1000), assessed("c1", -1000, 1, "rev")])
    assert (state.balance_cents, state.credit_cents) == (-1000, 1000)


def test_an_assessment_is_recorded_once_per_source_event() -> None:
    state = fold([assessed("c1", 1000, 1, "ev-1")])
    again = pl.Assess(
        P, "e2", "c1", None, "site-1", "prov-1", date(2026, 10, 1), 1000, "copay", "ev-1", AT
    )
    assert pl.decide(state, again) == []


def test_the_same_payment_twice_records_once_and_other_details_are_refused() -> None:
    state = fold([assessed("c1", 5000, 1), paid("p1", 2000)])
    assert pl.decide(state, receive("p1", 2000)) == []
    with pytest.raises(Rejected):
        pl.decide(state, receive("p1", 2100))


def test_paying_up_brings_the_stage_back_to_current() -> None:
    state = fold(
        [
            assessed("c1", 1000, 1),
            CollectionStageChanged(patient_id=P, stage="reminder", reason="x", changed_at=AT),
        ]
    )
    events = pl.decide(state, receive("p1", 1000))
    assert isinstance(events[-1], CollectionStageChanged)
    assert events[-1].stage == "current"


def refund(cents: int, payment_id: str | None = None, rid: str = "r1") -> pl.Refund:
    return pl.Refund(P, rid, cents, "cash", "overpaid", "u1", AT, payment_id=payment_id)


def test_a_refund_never_exceeds_the_credit_nor_the_payment() -> None:
    state = fold([assessed("c1", 1000, 1), paid("p1", 1200), paid("p2", 300)])
    assert state.refundable_cents == 500
    with pytest.raises(Rejected):
        pl.decide(state, refund(600))
    with pytest.raises(Rejected):
        pl.decide(state, refund(400, payment_id="p2"))
    [event] = pl.decide(state, refund(300, payment_id="p2"))
    assert isinstance(event, PatientRefunded)
    state = fold([*state.entries, event])
    assert state.balance_cents == -200
    with pytest.raises(Rejected):
        pl.decide(state, refund(100, payment_id="p2", rid="r2"))


def write_off(cents: int, reason: pl.WriteOffReason, charge: str | None = None) -> pl.WriteOff:
    return pl.WriteOff(P, "w1", cents, reason, 1000, "u1", AT, charge_id=charge)


def test_a_small_balance_write_off_is_at_most_the_limit() -> None:
    state = fold([assessed("c1", 5000, 1)])
    with pytest.raises(Invalid):
        pl.decide(state, write_off(1001, "small_balance"))
    [event] = pl.decide(state, write_off(1000, "small_balance"))
    assert isinstance(event, PatientBalanceWrittenOff)


def test_other_write_offs_are_at_most_the_balance() -> None:
    state = fold([assessed("c1", 5000, 1), assessed("c2", 1000, 2), paid("p1", 500)])
    with pytest.raises(Rejected):
        pl.decide(state, write_off(5501, "hardship"))
    with pytest.raises(Rejected):
        pl.decide(state, write_off(1001, "hardship", charge="c2"))  # c2 owes 1000
    events = pl.decide(state, write_off(5500, "hardship"))
    assert fold([*state.entries, *events]).balance_cents == 0


def plan(plan_id: str, total: int) -> pl.AgreePlan:
    return pl.AgreePlan(P, plan_id, total, 1000, date(2026, 12, 1), "u1", AT)


def test_one_open_payment_plan_at_a_time() -> None:
    state = fold([assessed("c1", 5000, 1)])
    events = pl.decide(state, plan("pl1", 5000))
    assert isinstance(events[0], PaymentPlanAgreed)
    assert isinstance(events[1], CollectionStageChanged)
    assert events[1].stage == "plan"
    state = fold([*state.entries, *events])
    assert pl.decide(state, plan("pl1", 5000)) == []
    with pytest.raises(Rejected):
        pl.decide(state, plan("pl2", 1000))
    with pytest.raises(Rejected):
        pl.decide(state, pl.EndPlan(P, "pl2", "cancelled", AT))
    with pytest.raises(Rejected):
        pl.decide(fold([assessed("c1", 500, 1)]), plan("pl3", 1000))  # more than owed


def advance(today: date, overdue_days: int = 30) -> pl.AdvanceCollection:
    return pl.AdvanceCollection(P, today, AT, overdue_days)


def statement(state: pl.Ledger, sid: str, period_end: date) -> list[DomainEvent]:
    at = datetime.combine(period_end, datetime.min.time(), UTC)
    command = pl.IssueStatement(P, sid, period_end, at, period_end + timedelta(days=30), "d", at)
    return list(pl.decide(state, command))


def test_collection_stages_follow_the_first_unpaid_statement() -> None:
    state = fold([assessed("c1", 5000, 1)])
    events = statement(state, "s1", date(2026, 10, 31))
    assert isinstance(events[0], StatementIssued)
    assert events[0].balance_cents == 5000
    assert isinstance(events[1], CollectionStageChanged)
    assert events[1].stage == "statement"
    state = fold([*state.entries, *events])

    def stage_on(day: date) -> str:
        return pl.stage_due(state, day)

    assert stage_on(date(2026, 11, 29)) == "statement"
    assert stage_on(date(2026, 11, 30)) == "reminder"
    assert stage_on(date(2026, 12, 30)) == "final_notice"
    assert stage_on(date(2027, 1, 29)) == "collections"
    [moved] = pl.decide(state, advance(date(2026, 12, 30)))
    assert isinstance(moved, CollectionStageChanged)
    assert moved.stage == "final_notice"
    assert pl.decide(state, advance(date(2026, 11, 2))) == []


def test_no_statement_when_nothing_is_owed() -> None:
    with pytest.raises(Rejected):
        statement(fold([assessed("c1", 1000, 1), paid("p1", 1000)]), "s1", date(2026, 10, 31))


def adjudicated(pr: int, *adjustments: tuple[str, str, int]) -> ClaimAdjudicated:
    return ClaimAdjudicated(
        claim_id="C1",
        outcome="partially_paid",
        paid_cents=100,
        patient_responsibility_cents=pr,
        payer_claim_control_number="X",
        adjustments=tuple(Adjustment(group=g, reason=r, amount_cents=a) for g, r, a in adjustments),
        lines=(
            LineAdjudication(
                line_id="1",
                code="99213",
                paid_cents=100,
                adjustments=(Adjustment(group="PR", reason="3", amount_cents=700),),
            ),
        ),
        adjudicated_on=date(2026, 11, 20),
        recorded_at=AT,
    )


def test_patient_responsibility_is_split_by_its_pr_reasons() -> None:
    event = adjudicated(
        2500 + 700,
        ("PR", "1", 1000),
        ("PR", "2", 500),
        ("PR", "96", 300),
        ("PR", "204", 200),
        ("PR", "45", 100),
        ("CO", "45", 9999),
    )
    assert dict(split(event)) == {
        "deductible": 1000,
        "coinsurance": 500,
        "not_covered": 500,
        "other": 100 + 400,  # CARC 45 as PR, and what no adjustment explains
        "copay": 700,
    }


def test_no_breakdown_is_other() -> None:
    event = adjudicated(1200).model_copy(update={"lines": ()})
    assert split(event) == [("other", 1200)]


# ----------------------------------------------------------------------------- plans kept or not


def agreed(total: int, installment: int, first_due_on: date) -> PaymentPlanAgreed:
    return PaymentPlanAgreed(
        patient_id=P,
        plan_id="pl1",
        total_cents=total,
        installment_cents=installment,
        first_due_on=first_due_on,
        agreed_by="u1",
        agreed_at=AT,
    )


def ended(events: Sequence[DomainEvent]) -> str | None:
    outcomes = [e.outcome for e in events if isinstance(e, PaymentPlanEnded)]
    assert len(outcomes) <= 1
    return outcomes[0] if outcomes else None


def stage_of(events: Sequence[DomainEvent]) -> str | None:
    stages = [e.stage for e in events if isinstance(e, CollectionStageChanged)]
    return stages[-1] if stages else None


def test_installments_fall_due_monthly_on_the_day_or_the_months_last() -> None:
    plan = agreed(5000, 2000, date(2027, 1, 31))
    assert [pl.due_on(plan, n) for n in range(4)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert pl.due_on(agreed(5000, 100, date(2027, 11, 15)), 14) == date(2029, 1, 15)
    assert pl.due_by(plan, date(2027, 1, 30)) == 0
    assert pl.due_by(plan, date(2027, 1, 31)) == 2000
    assert pl.due_by(plan, date(2027, 3, 31)) == 5000  # the third is the rest: 1000
    assert pl.due_by(plan, date(2030, 1, 1)) == 5000


def test_a_plan_with_an_installment_more_than_n_days_overdue_defaults() -> None:
    # 5000 in 1000s from 15 Dec: the first kept, the second (15 Jan) never paid.
    state = fold(
        [
            assessed("c1", 5000, 1),
            paid("before", 300),  # before the plan: not toward it
            agreed(4700, 1000, date(2026, 12, 15)),
            CollectionStageChanged(patient_id=P, stage="plan", reason="x", changed_at=AT),
            paid("p1", 1000),
        ]
    )
    assert state.plan_paid_cents == 1000
    assert pl.decide(state, advance(date(2027, 1, 15))) == []  # due today: not overdue
    assert pl.decide(state, advance(date(2027, 2, 14))) == []  # 30 days: not MORE than 30
    events = pl.decide(state, advance(date(2027, 2, 15)))
    assert ended(events) == "defaulted"
    assert stage_of(events) == "current"  # no statement unpaid: the balance's age is none
    assert ended(pl.decide(state, advance(date(2027, 1, 20), overdue_days=4))) == "defaulted"
    after = fold([*state.entries, *events])
    assert (after.plan, after.stage) == (None, "current")
    assert pl.decide(after, advance(date(2027, 3, 1))) == []


def test_a_defaulted_plan_leaves_the_stage_where_the_first_unpaid_statement_puts_it() -> None:
    state = fold([assessed("c1", 5000, 1)])
    state = fold([*state.entries, *statement(state, "s1", date(2026, 10, 31))])
    state = fold(
        [
            *state.entries,
            agreed(5000, 1000, date(2026, 11, 15)),
            CollectionStageChanged(patient_id=P, stage="plan", reason="x", changed_at=AT),
        ]
    )
    assert state.stage == "plan"
    assert pl.decide(state, advance(date(2026, 12, 15))) == []  # 30 days: not MORE than 30
    events = pl.decide(state, advance(date(2026, 12, 16)))  # 31 days after 15 Nov
    assert ended(events) == "defaulted"
    assert stage_of(events) == "reminder"  # 46 days since the statement of 31 Oct
    events = pl.decide(state, advance(date(2027, 2, 1)))
    assert stage_of(events) == "collections"


def test_a_plan_paid_up_late_but_caught_up_is_kept() -> None:
    state = fold(
        [
            assessed("c1", 3000, 1),
            agreed(3000, 1000, date(2026, 12, 1)),
            CollectionStageChanged(patient_id=P, stage="plan", reason="x", changed_at=AT),
            paid("p1", 2000),  # both of the first two installments, late for the first
        ]
    )
    assert pl.decide(state, advance(date(2027, 1, 31))) == []
    assert ended(pl.decide(state, advance(date(2027, 2, 1)))) is None  # 2nd due 1 Jan: 31 days
    assert ended(pl.decide(state, advance(date(2027, 3, 4)))) == "defaulted"  # 3rd: 1 Feb


def test_a_plan_paid_in_full_ends_paid_and_the_stage_is_current() -> None:
    state = fold(
        [
            assessed("c1", 3000, 1),
            agreed(3000, 1000, date(2026, 12, 1)),
            CollectionStageChanged(patient_id=P, stage="plan", reason="x", changed_at=AT),
            paid("p1", 1000),
        ]
    )
    assert pl.decide(state, advance(date(2026, 12, 2))) == []
    events = pl.decide(state, receive("p2", 2000))  # all of it, early: the stage is current
    assert stage_of(events) == "current"
    state = fold([*state.entries, *events])
    assert state.plan is not None
    events = pl.decide(state, advance(date(2026, 12, 2)))
    assert ended(events) == "paid"
    assert stage_of(events) is None  # current already
    assert fold([*state.entries, *events]).plan is None


def test_a_plan_for_part_of_the_balance_paid_in_full_ends_paid_the_rest_still_owed() -> None:
    state = fold(
        [
            assessed("c1", 5000, 1),
            agreed(2000, 1000, date(2026, 12, 1)),
            CollectionStageChanged(patient_id=P, stage="plan", reason="x", changed_at=AT),
            paid("p1", 2000),
        ]
    )
    events = pl.decide(state, advance(date(2026, 12, 2)))
    assert ended(events) == "paid"
    assert stage_of(events) == "current"  # no statement yet: the balance's age is none


def test_a_plan_whose_balance_is_gone_is_never_defaulted() -> None:
    state = fold(
        [
            assessed("c1", 3000, 1),
            agreed(3000, 1000, date(2026, 12, 1)),
            assessed("c1", -3000, 1, "reversal"),  # the payer took the responsibility back
        ]
    )
    assert ended(pl.decide(state, advance(date(2027, 6, 1)))) == "paid"


def test_a_plan_ended_by_hand_leaves_no_stage_of_plan_behind() -> None:
    """Owed again after an earlier statement was paid up: no statement is unpaid, so a plan
    cancelled leaves the stage `current`, never `plan` without a plan."""
    state = fold([assessed("c1", 1000, 1)])
    state = fold([*state.entries, *statement(state, "s1", date(2026, 10, 31))])
    state = fold([*state.entries, *pl.decide(state, receive("p1", 1000))])
    assert (state.stage, state.unpaid_since) == ("current", None)
    state = fold([*state.entries, assessed("c2", 3000, 20)])
    state = fold([*state.entries, *pl.decide(state, plan("pl1", 3000))])
    assert state.stage == "plan"
    events = pl.decide(state, pl.EndPlan(P, "pl1", "cancelled", AT))
    assert stage_of(events) == "current"
