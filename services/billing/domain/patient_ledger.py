"""A patient's ledger, on `streams.patient_ledger(tenant, patient_id)`: what the patient owes
and paid.

The balance is responsibility assessed, less payments, plus refunds, less write-offs. It is
kept by visit (charge): an assessment opens or changes a visit's item; a payment naming a visit
goes to it, one naming none to the oldest balance first (by date of service), and what is left
over is the patient's credit, applied to the next visit assessed. A copay taken at check-in for
a visit not assessed yet waits for that visit (it counts as credit meanwhile).

Rules: an assessment is recorded once per `learnt_from`; a payment once per the client's
`payment_id` (the same id with other details is refused: 409); a refund never exceeds the
patient's credit, nor what the payment it names paid less what was refunded of it; a small-
balance write-off is at most the settings' limit, every write-off at most the balance (of its
visit, when it names one); one open payment plan at a time. Collection stages:

    current -> statement (a statement issued while something is owed)
            -> reminder (30 days unpaid after the first statement) -> final_notice (60)
            -> collections (90);  plan while a plan is kept;  current once paid.

A payment plan's installments fall due monthly from `first_due_on` (the same day of the month,
or the month's last day). What counts as paid toward it: the patient's payments received after
it was agreed. On the statement timer's round (`AdvanceCollection`) a plan whose payments reach
its total, or whose patient owes nothing any more, ends `paid`; one with an installment more
than N days overdue (the settings' `payment_plan_overdue_days`) ends `defaulted`, and the
stage leaves `plan` for where the balance's age (the first unpaid statement) puts it.

Dates come from the command (the use case's clock): the decider is pure.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal

from services.billing.domain.events import (
    CollectionStageChanged,
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    PatientResponsibilityAssessed,
    PaymentPlanAgreed,
    PaymentPlanEnded,
    StatementIssued,
)
from services.billing.domain.events import PaymentMethod as PaymentMethod
from shared.domain import Decider, Invalid, Rejected
from shared.events import DomainEvent

Stage = Literal["current", "statement", "reminder", "final_notice", "collections", "plan"]
Reason = Literal["deductible", "coinsurance", "copay", "not_covered", "self_pay", "other"]
WriteOffReason = Literal["small_balance", "hardship", "bad_debt", "courtesy", "other"]
Kind = Literal["copay", "payment", "prepayment"]
PlanOutcome = Literal["paid", "cancelled", "defaulted"]

REMINDER_DAYS = 30
FINAL_NOTICE_DAYS = 60
COLLECTIONS_DAYS = 90
MAX_TEXT = 500


@dataclass(frozen=True)
class Item:
    """One visit's part of the balance."""

    charge_id: str
    site_id: str
    provider_id: str
    date_of_service: date
    assessed_cents: int = 0
    paid_cents: int = 0  # payments applied to it
    written_off_cents: int = 0

    @property
    def balance_cents(self) -> int:
        return self.assessed_cents - self.paid_cents - self.written_off_cents


@dataclass(frozen=True)
class Ledger:
    patient_id: str | None = None
    items: tuple[Item, ...] = ()  # by date of service, then charge id
    credit_cents: int = 0  # paid and not applied to any visit (less refunds)
    waiting: tuple[tuple[str, int], ...] = ()  # copays for visits not assessed yet
    assessed_from: frozenset[str] = frozenset()
    payments: tuple[PatientPaymentReceived, ...] = ()
    refunded_of: tuple[tuple[str, int], ...] = ()  # payment id -> refunded so far
    refund_ids: frozenset[str] = frozenset()
    write_off_ids: frozenset[str] = frozenset()
    plan: PaymentPlanAgreed | None = None  # the open plan
    plans: frozenset[str] = frozenset()  # every plan id agreed
    plan_paid_cents: int = 0  # paid since the open plan was agreed
    statements: tuple[StatementIssued, ...] = ()
    stage: Stage = "current"
    unpaid_since: date | None = None  # the first statement's period end since last paid up
    entries: tuple[DomainEvent, ...] = field(default=(), repr=False)

    @property
    def balance_cents(self) -> int:
        """What the patient owes (negative: what the practice owes the patient)."""
        waiting = sum(amount for _, amount in self.waiting)
        return sum(i.balance_cents for i in self.items) - self.credit_cents - waiting

    @property
    def refundable_cents(self) -> int:
        return max(0, -self.balance_cents)

    def item(self, charge_id: str) -> Item | None:
        return next((i for i in self.items if i.charge_id == charge_id), None)

    def payment(self, payment_id: str) -> PatientPaymentReceived | None:
        return next((p for p in self.payments if p.payment_id == payment_id), None)

    def refunded(self, payment_id: str) -> int:
        return dict(self.refunded_of).get(payment_id, 0)

    def assessed(self, charge_id: str, reason: str | None = None) -> int:
        """The net assessed for a visit (for one reason)."""
        return sum(
            e.amount_cents
            for e in self.entries
            if isinstance(e, PatientResponsibilityAssessed)
            and e.charge_id == charge_id
            and (reason is None or e.reason == reason)
        )

    def entries_of(self, prefix: str) -> tuple[PatientResponsibilityAssessed, ...]:
        """The assessments whose entry id starts with `prefix`."""
        return tuple(
            e
            for e in self.entries
            if isinstance(e, PatientResponsibilityAssessed) and e.entry_id.startswith(prefix)
        )

    @property
    def site_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.site_id for i in self.items))


# ----------------------------------------------------------------------------- the fold


def _put(items: tuple[Item, ...], item: Item) -> tuple[Item, ...]:
    kept = [i for i in items if i.charge_id != item.charge_id]
    return tuple(sorted((*kept, item), key=lambda i: (i.date_of_service, i.charge_id)))


def _apply_oldest_first(items: tuple[Item, ...], amount: int) -> tuple[tuple[Item, ...], int]:
    """`amount` paid to the oldest balances first: the items, and what is left over."""
    out = []
    for item in items:
        take = min(amount, max(0, item.balance_cents))
        amount -= take
        out.append(replace(item, paid_cents=item.paid_cents + take) if take else item)
    return tuple(out), amount


def _settle(state: Ledger) -> Ledger:
    """Overpaid items give their excess back to credit; credit pays the oldest balances."""
    credit = state.credit_cents
    items = []
    for item in state.items:
        if item.balance_cents < 0 and item.paid_cents > 0:
            back = min(item.paid_cents, -item.balance_cents)
            item = replace(item, paid_cents=item.paid_cents - back)
            credit += back
        items.append(item)
    settled, left = _apply_oldest_first(tuple(items), credit)
    return replace(state, items=settled, credit_cents=left)


def _assessed(state: Ledger, e: PatientResponsibilityAssessed) -> Ledger:
    item = state.item(e.charge_id) or Item(e.charge_id, e.site_id, e.provider_id, e.date_of_service)
    item = replace(item, assessed_cents=item.assessed_cents + e.amount_cents)
    waiting = dict(state.waiting)
    held = waiting.pop(e.charge_id, 0)
    take = min(held, max(0, item.balance_cents))
    item = replace(item, paid_cents=item.paid_cents + take)
    return _settle(
        replace(
            state,
            patient_id=e.patient_id,
            items=_put(state.items, item),
            credit_cents=state.credit_cents + held - take,
            waiting=tuple(waiting.items()),
            assessed_from=state.assessed_from | {e.learnt_from},
        )
    )


def _paid(state: Ledger, e: PatientPaymentReceived) -> Ledger:
    state = replace(state, patient_id=e.patient_id, payments=(*state.payments, e))
    if state.plan is not None:
        state = replace(state, plan_paid_cents=state.plan_paid_cents + e.amount_cents)
    target = e.charge_id or e.appointment_id
    item = state.item(target) if target else None
    if item is not None:
        take = min(e.amount_cents, max(0, item.balance_cents))
        items = _put(state.items, replace(item, paid_cents=item.paid_cents + take))
        return _settle(
            replace(state, items=items, credit_cents=state.credit_cents + e.amount_cents - take)
        )
    if target is not None:  # a copay for a visit not assessed yet: it waits for it
        waiting = dict(state.waiting)
        waiting[target] = waiting.get(target, 0) + e.amount_cents
        return replace(state, waiting=tuple(waiting.items()))
    return _settle(replace(state, credit_cents=state.credit_cents + e.amount_cents))


def _refunded(state: Ledger, e: PatientRefunded) -> Ledger:
    amount = e.amount_cents
    credit = min(state.credit_cents, amount)
    amount -= credit
    waiting = []
    for charge_id, held in state.waiting:
        take = min(held, amount)
        amount -= take
        if held - take:
            waiting.append((charge_id, held - take))
    refunded = dict(state.refunded_of)
    if e.payment_id is not None:
        refunded[e.payment_id] = refunded.get(e.payment_id, 0) + e.amount_cents
    return replace(
        state,
        credit_cents=state.credit_cents - credit,
        waiting=tuple(waiting),
        refunded_of=tuple(refunded.items()),
        refund_ids=state.refund_ids | {e.refund_id},
    )


def _written_off(state: Ledger, e: PatientBalanceWrittenOff) -> Ledger:
    amount = e.amount_cents
    items = []
    for item in state.items:
        if e.charge_id is None or item.charge_id == e.charge_id:
            take = min(amount, max(0, item.balance_cents))
            amount -= take
            item = replace(item, written_off_cents=item.written_off_cents + take)
        items.append(item)
    return replace(state, items=tuple(items), write_off_ids=state.write_off_ids | {e.write_off_id})


def evolve(state: Ledger, event: DomainEvent) -> Ledger:
    match event:
        case PatientResponsibilityAssessed():
            state = _assessed(state, event)
        case PatientPaymentReceived():
            state = _paid(state, event)
        case PatientRefunded():
            state = _refunded(state, event)
        case PatientBalanceWrittenOff():
            state = _written_off(state, event)
        case PaymentPlanAgreed():
            state = replace(
                state, plan=event, plans=state.plans | {event.plan_id}, plan_paid_cents=0
            )
        case PaymentPlanEnded():
            state = replace(state, plan=None)
        case StatementIssued():
            unpaid_since = state.unpaid_since
            if unpaid_since is None and event.balance_cents > 0:
                unpaid_since = event.period_end
            state = replace(state, statements=(*state.statements, event), unpaid_since=unpaid_since)
        case CollectionStageChanged():
            state = replace(state, stage=event.stage)
            if event.stage == "current":
                state = replace(state, unpaid_since=None)
        case _:
            return state
    return replace(state, entries=(*state.entries, event))


# ----------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Assess:
    patient_id: str
    entry_id: str
    charge_id: str
    claim_id: str | None
    site_id: str
    provider_id: str
    date_of_service: date
    amount_cents: int
    reason: Reason
    learnt_from: str
    assessed_at: datetime


@dataclass(frozen=True)
class AssessAll:
    """Several assessments from one source (an adjudication's PR by reason), in one commit."""

    assessments: tuple[Assess, ...]


@dataclass(frozen=True)
class ReceivePayment:
    patient_id: str
    payment_id: str
    amount_cents: int
    method: PaymentMethod
    site_id: str
    received_by: str
    received_at: datetime
    reference: str = ""
    kind: Kind = "payment"
    appointment_id: str | None = None
    charge_id: str | None = None


@dataclass(frozen=True)
class Refund:
    patient_id: str
    refund_id: str
    amount_cents: int
    method: PaymentMethod
    reason: str
    refunded_by: str
    refunded_at: datetime
    reference: str = ""
    payment_id: str | None = None


@dataclass(frozen=True)
class WriteOff:
    patient_id: str
    write_off_id: str
    amount_cents: int
    reason: WriteOffReason
    small_balance_limit_cents: int  # the settings' limit of a small-balance write-off
    written_off_by: str
    written_off_at: datetime
    note: str = ""
    charge_id: str | None = None


@dataclass(frozen=True)
class AgreePlan:
    patient_id: str
    plan_id: str
    total_cents: int
    installment_cents: int
    first_due_on: date
    agreed_by: str
    agreed_at: datetime


@dataclass(frozen=True)
class EndPlan:
    patient_id: str
    plan_id: str
    outcome: PlanOutcome
    ended_at: datetime


@dataclass(frozen=True)
class IssueStatement:
    patient_id: str
    statement_id: str
    period_end: date
    as_of: datetime
    due_on: date
    digest: str  # of the PDF written from the ledger's entries up to `as_of`
    issued_at: datetime


@dataclass(frozen=True)
class AdvanceCollection:
    """End a plan paid in full or not kept, and move the collection stage to where `today`
    puts it (the statement timer's step)."""

    patient_id: str
    today: date
    changed_at: datetime
    plan_overdue_days: int  # an installment overdue longer than this: the plan defaulted


LedgerCommand = (
    Assess
    | AssessAll
    | ReceivePayment
    | Refund
    | WriteOff
    | AgreePlan
    | EndPlan
    | IssueStatement
    | AdvanceCollection
)


def due_on(plan: PaymentPlanAgreed, n: int) -> date:
    """The day the plan's installment `n` (from 0) falls due: monthly from `first_due_on`, on
    the same day of the month, or the month's last day when it has fewer."""
    months = plan.first_due_on.month - 1 + n
    year, month = plan.first_due_on.year + months // 12, months % 12 + 1
    return date(year, month, min(plan.first_due_on.day, calendar.monthrange(year, month)[1]))


def due_by(plan: PaymentPlanAgreed, day: date) -> int:
    """What the plan's installments due on or before `day` add up to (the last one may be
    smaller: the rest of the total)."""
    count = -(-plan.total_cents // plan.installment_cents)
    fallen = 0
    while fallen < count and due_on(plan, fallen) <= day:
        fallen += 1
    return min(plan.total_cents, fallen * plan.installment_cents)


def plan_outcome(state: Ledger, today: date, overdue_days: int) -> PlanOutcome | None:
    """How the open plan ends on `today`, if it does: `paid` once its payments reach its total
    or nothing is owed any more; `defaulted` once an installment is more than `overdue_days`
    overdue (due on a day before `today - overdue_days`) and not paid."""
    plan = state.plan
    if plan is None:
        return None
    if state.plan_paid_cents >= plan.total_cents or state.balance_cents <= 0:
        return "paid"
    if state.plan_paid_cents < due_by(plan, today - timedelta(days=overdue_days + 1)):
        return "defaulted"
    return None


def stage_due(state: Ledger, today: date) -> Stage:
    """Where the collection stage belongs on `today`."""
    if state.balance_cents <= 0:
        return "current"
    if state.plan is not None:
        return "plan"
    if state.unpaid_since is None:  # no statement unpaid: a plan that ended is no stage
        return "current" if not state.statements or state.stage == "plan" else state.stage
    days = (today - state.unpaid_since).days
    if days >= COLLECTIONS_DAYS:
        return "collections"
    if days >= FINAL_NOTICE_DAYS:
        return "final_notice"
    if days >= REMINDER_DAYS:
        return "reminder"
    return "statement"


def _stage_after(
    state: Ledger, events: Sequence[DomainEvent], today: date, at: datetime, reason: str
) -> list[DomainEvent]:
    """`events`, and the stage change they bring, if any."""
    after = state
    for event in events:
        after = evolve(after, event)
    due = stage_due(after, today)
    if due == after.stage:
        return list(events)
    assert after.patient_id is not None
    return [
        *events,
        CollectionStageChanged(
            patient_id=after.patient_id, stage=due, reason=reason, changed_at=at
        ),
    ]


def _staged(state: Ledger, event: DomainEvent, at: datetime, reason: str) -> list[DomainEvent]:
    """`event` recorded at `at`, and the stage change it brings that day."""
    return _stage_after(state, [event], at.date(), at, reason)


# ----------------------------------------------------------------------------- checks


def _positive(amount: int, what: str) -> None:
    if amount <= 0:
        raise Invalid(f"{what} must be more than zero")


def _text(text: str, what: str) -> None:
    if not text.strip() or len(text) > MAX_TEXT:
        raise Invalid(f"{what} must be given, at most {MAX_TEXT} characters")


def _no_card_number(reference: str) -> None:
    """A reference is an authorisation, the last four or a check number, never a card number."""
    if len(reference) > MAX_TEXT:
        raise Invalid("the reference is too long")
    digits = reference.replace(" ", "")
    if digits.isdigit() and len(digits) > 4 + 8:
        raise Invalid("a card number is never recorded: give the authorisation or last four")


def _at_most(amount: int, limit: int, what: str, of: str) -> None:
    """409 when `amount` exceeds what the ledger allows (`limit`, named `of`)."""
    if amount > limit:
        raise Rejected(f"{what} of {amount} exceeds {of} ({limit})")


# ----------------------------------------------------------------------------- decisions


def decide(state: Ledger, command: LedgerCommand) -> Sequence[DomainEvent]:
    match command:
        case Assess():
            return _assess(state, command)
        case AssessAll():
            recorded: list[DomainEvent] = []
            for one in command.assessments:
                events = _assess(state, one)
                for e in events:
                    state = evolve(state, e)
                recorded.extend(events)
            return recorded
        case ReceivePayment():
            return _receive(state, command)
        case Refund():
            return _refund(state, command)
        case WriteOff():
            return _write_off(state, command)
        case AgreePlan():
            return _agree(state, command)
        case EndPlan():
            return _end(state, command)
        case IssueStatement():
            return _issue(state, command)
        case AdvanceCollection():
            return _advance(state, command)
    raise AssertionError(command)


def _assess(state: Ledger, c: Assess) -> Sequence[DomainEvent]:
    if c.learnt_from in state.assessed_from or c.amount_cents == 0:
        return []
    event = PatientResponsibilityAssessed(
        patient_id=c.patient_id,
        entry_id=c.entry_id,
        charge_id=c.charge_id,
        claim_id=c.claim_id,
        site_id=c.site_id,
        provider_id=c.provider_id,
        date_of_service=c.date_of_service,
        amount_cents=c.amount_cents,
        reason=c.reason,
        learnt_from=c.learnt_from,
        assessed_at=c.assessed_at,
    )
    return _staged(state, event, c.assessed_at, "assessed")


def _receive(state: Ledger, c: ReceivePayment) -> Sequence[DomainEvent]:
    _positive(c.amount_cents, "a payment")
    _no_card_number(c.reference)
    event = PatientPaymentReceived(
        patient_id=c.patient_id,
        payment_id=c.payment_id,
        amount_cents=c.amount_cents,
        method=c.method,
        reference=c.reference,
        kind=c.kind,
        appointment_id=c.appointment_id,
        charge_id=c.charge_id,
        site_id=c.site_id,
        received_by=c.received_by,
        received_at=c.received_at,
    )
    earlier = state.payment(c.payment_id)
    if earlier is not None:
        fields = ("amount_cents", "method", "reference", "kind", "appointment_id", "charge_id")
        if all(getattr(earlier, f) == getattr(event, f) for f in fields):
            return []
        raise Rejected(f"payment {c.payment_id} was recorded with other details")
    return _staged(state, event, c.received_at, "paid")


def _refund(state: Ledger, c: Refund) -> Sequence[DomainEvent]:
    _positive(c.amount_cents, "a refund")
    _text(c.reason, "the reason")
    if c.refund_id in state.refund_ids:
        return []
    _at_most(c.amount_cents, state.refundable_cents, "a refund", "the patient's credit")
    if c.payment_id is not None:
        paid = state.payment(c.payment_id)
        if paid is None:
            raise Rejected(f"payment {c.payment_id} is not on this ledger")
        left = paid.amount_cents - state.refunded(c.payment_id)
        _at_most(c.amount_cents, left, "a refund", "what payment left")
    return [
        PatientRefunded(
            patient_id=c.patient_id,
            refund_id=c.refund_id,
            amount_cents=c.amount_cents,
            method=c.method,
            reference=c.reference,
            reason=c.reason,
            refunded_by=c.refunded_by,
            refunded_at=c.refunded_at,
            payment_id=c.payment_id,
        )
    ]


def _write_off(state: Ledger, c: WriteOff) -> Sequence[DomainEvent]:
    _positive(c.amount_cents, "a write-off")
    if c.write_off_id in state.write_off_ids:
        return []
    if c.reason == "small_balance" and c.amount_cents > c.small_balance_limit_cents:
        raise Invalid(f"a small-balance write-off is at most {c.small_balance_limit_cents} cents")
    if c.charge_id is not None:
        item = state.item(c.charge_id)
        owed = item.balance_cents if item is not None else 0
    else:
        owed = sum(max(0, i.balance_cents) for i in state.items)
    owed = min(owed, state.balance_cents)
    _at_most(c.amount_cents, max(0, owed), "a write-off", "the balance")
    event = PatientBalanceWrittenOff(
        patient_id=c.patient_id,
        write_off_id=c.write_off_id,
        amount_cents=c.amount_cents,
        reason=c.reason,
        note=c.note,
        charge_id=c.charge_id,
        written_off_by=c.written_off_by,
        written_off_at=c.written_off_at,
    )
    return _staged(state, event, c.written_off_at, "written off")


def _agree(state: Ledger, c: AgreePlan) -> Sequence[DomainEvent]:
    if c.plan_id in state.plans:
        if state.plan is not None and state.plan.plan_id == c.plan_id:
            return []
        raise Rejected(f"payment plan {c.plan_id} has ended")
    _positive(c.total_cents, "a plan's total")
    _positive(c.installment_cents, "an installment")
    if c.installment_cents > c.total_cents:
        raise Invalid("an installment cannot exceed the plan's total")
    if state.plan is not None:
        raise Rejected(f"payment plan {state.plan.plan_id} is still open")
    _at_most(c.total_cents, state.balance_cents, "a plan", "the balance")
    event = PaymentPlanAgreed(
        patient_id=c.patient_id,
        plan_id=c.plan_id,
        total_cents=c.total_cents,
        installment_cents=c.installment_cents,
        first_due_on=c.first_due_on,
        agreed_by=c.agreed_by,
        agreed_at=c.agreed_at,
    )
    return _staged(state, event, c.agreed_at, "plan agreed")


def _end(state: Ledger, c: EndPlan) -> Sequence[DomainEvent]:
    if state.plan is None or state.plan.plan_id != c.plan_id:
        raise Rejected(f"payment plan {c.plan_id} is not open")
    event = PaymentPlanEnded(
        patient_id=c.patient_id, plan_id=c.plan_id, outcome=c.outcome, ended_at=c.ended_at
    )
    return _staged(state, event, c.ended_at, "plan ended")


def _issue(state: Ledger, c: IssueStatement) -> Sequence[DomainEvent]:
    if any(s.statement_id == c.statement_id for s in state.statements):
        return []
    if state.balance_cents <= 0:
        raise Rejected("nothing is owed: no statement")
    issued = StatementIssued(
        patient_id=c.patient_id,
        statement_id=c.statement_id,
        period_end=c.period_end,
        as_of=c.as_of,
        balance_cents=state.balance_cents,
        due_on=c.due_on,
        digest=c.digest,
        issued_at=c.issued_at,
    )
    # the stage a statement brings is that of its period's end, not of the day it is issued
    return _stage_after(state, [issued], c.period_end, c.issued_at, "statement issued")


def _advance(state: Ledger, c: AdvanceCollection) -> Sequence[DomainEvent]:
    if state.patient_id is None:
        return []
    ended: list[DomainEvent] = []
    outcome = plan_outcome(state, c.today, c.plan_overdue_days)
    if state.plan is not None and outcome is not None:
        ended.append(
            PaymentPlanEnded(
                patient_id=c.patient_id,
                plan_id=state.plan.plan_id,
                outcome=outcome,
                ended_at=c.changed_at,
            )
        )
    reason = f"plan {outcome}" if ended else f"as of {c.today.isoformat()}"
    return _stage_after(state, ended, c.today, c.changed_at, reason)


ledger = Decider[Ledger, LedgerCommand](Ledger(), evolve, decide)
