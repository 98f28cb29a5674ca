"""A charge: what a completed visit is billed at, on `streams.charge(tenant, appointment_id)`.

Made once per visit, from scheduling's `VisitCompleted`: one line per procedure, priced by the
fee schedule version in force on the date of service, checked (`coding.py`). A clean charge is
released in the same append; one with coding issues is held (reason "coding"). A second
`VisitCompleted` for the same appointment (a redelivery, or a re-completion with other codes)
records nothing: a biller corrects the codes instead.

A biller corrects the codes (the whole new set), holds and releases. Corrections are priced by
the SAME version the charge was first priced with: a later version never reprices a charge.
Release is refused while coding issues remain. A released charge is held before it is
corrected. Illegal steps are `Rejected` (409).

A self-pay charge (made before billing learnt the patient's coverage) is repriced once billing
learns a coverage and no claim exists for it (`RepriceCharge`): the same codes priced under the
payer's schedule in force on the date of service, recorded as `ChargeCorrected` with reason
"coverage learnt", the new `payer_id` and the coverage fact's id (`learnt_from`: a redelivery
reprices nothing). New coding issues (say, no schedule in force) hold a released charge.

Commands carry the code book and the payer's fee schedule (folded by the application), so the
decision is pure and made again on the fresh state if another writer got in first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from services.billing.domain import coding
from services.billing.domain.coding import CodeBook
from services.billing.domain.events import (
    SELF_PAY,
    ChargeCorrected,
    ChargeCreated,
    ChargeHeld,
    ChargeLine,
    ChargeReleased,
    CodingIssue,
    FeeScheduleVersionPublished,
)
from services.billing.domain.fees import FeeSchedule, fee_of
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

CODING = "coding"  # the hold reason of a charge the coding checks stopped
COVERAGE_LEARNT = "coverage learnt"  # the reason of a self-pay charge's repricing
MAX_REASON = 500

Status = Literal["absent", "held", "released"]


@dataclass(frozen=True)
class Charge:
    created: ChargeCreated | None = None
    diagnoses: tuple[str, ...] = ()
    lines: tuple[ChargeLine, ...] = ()
    fee_schedule_version: int | None = None
    issues: tuple[CodingIssue, ...] = ()  # as last checked (creation or correction)
    status: Status = "absent"
    hold_reason: str | None = None
    payer_id: str | None = None  # whose schedule priced it: the creation's, or a repricing's
    learnt: frozenset[str] = frozenset()  # the coverage facts it was repriced from


@dataclass(frozen=True)
class CodedLine:
    """A service line as coded, before pricing."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    diagnosis_pointers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Pricing:
    """What prices and checks a charge: the payer's fee schedule (every version), the payer's
    name for the issues, and the code book."""

    payer_id: str
    payer_name: str
    schedule: FeeSchedule
    book: CodeBook


@dataclass(frozen=True)
class CreateCharge:
    charge_id: str
    appointment_id: str
    patient_id: str
    site_id: str
    provider_id: str
    date_of_service: date
    procedures: tuple[str, ...]  # as scheduling sends them: "99213" or "99213-25"
    diagnoses: tuple[str, ...]
    pricing: Pricing
    created_at: datetime
    learnt_from: str


@dataclass(frozen=True)
class CorrectCharge:
    charge_id: str
    diagnoses: tuple[str, ...]
    lines: tuple[CodedLine, ...]
    reason: str
    pricing: Pricing
    corrected_at: datetime


@dataclass(frozen=True)
class HoldCharge:
    charge_id: str
    reason: str
    held_at: datetime


@dataclass(frozen=True)
class ReleaseCharge:
    charge_id: str
    pricing: Pricing  # the code book and the payer's name, to check again
    released_at: datetime


@dataclass(frozen=True)
class RepriceCharge:
    """Price a self-pay charge under a coverage billing learnt after it was made."""

    charge_id: str
    pricing: Pricing  # the coverage's payer's
    claimed: bool  # a claim exists for the charge already (then nothing changes)
    learnt_from: str  # the coverage fact's id (CoverageLearnt.learnt_from)
    corrected_at: datetime


ChargeCommand = CreateCharge | CorrectCharge | HoldCharge | ReleaseCharge | RepriceCharge


class CodingIssues(Rejected):
    """Release refused: the codes still have these issues."""

    def __init__(self, charge_id: str, issues: Sequence[CodingIssue]) -> None:
        listed = "; ".join(describe(i) for i in issues)
        super().__init__(f"charge {charge_id} has coding issues: {listed}")
        self.issues = tuple(issues)


def describe(issue: CodingIssue) -> str:
    return f"line {issue.line_id}: {issue.problem}" if issue.line_id else issue.problem


def procedure(written: str) -> tuple[str, tuple[str, ...]]:
    """`99213-25-59` -> (`99213`, (`25`, `59`)): scheduling's code with its modifiers."""
    code, *modifiers = written.strip().upper().split("-")
    return code, tuple(modifiers)


def default_pointers(diagnoses: Sequence[str]) -> tuple[int, ...]:
    """Each line points at the first diagnoses, up to four."""
    return tuple(range(1, min(coding.MAX_POINTERS, len(diagnoses)) + 1))


def evolve(state: Charge, event: DomainEvent) -> Charge:
    match event:
        case ChargeCreated():
            return Charge(
                created=event,
                diagnoses=event.diagnoses,
                lines=event.lines,
                fee_schedule_version=event.fee_schedule_version,
                issues=event.issues,
                status="held",
                payer_id=event.payer_id,
            )
        case ChargeCorrected():
            repriced = event.payer_id is not None
            return replace(
                state,
                diagnoses=event.diagnoses,
                lines=event.lines,
                fee_schedule_version=(
                    event.fee_schedule_version
                    if repriced or state.fee_schedule_version is None
                    else state.fee_schedule_version
                ),
                issues=event.issues,
                payer_id=event.payer_id if repriced else state.payer_id,
                learnt=state.learnt | {event.learnt_from} if event.learnt_from else state.learnt,
            )
        case ChargeHeld():
            return replace(state, status="held", hold_reason=event.reason)
        case ChargeReleased():
            return replace(state, status="released", hold_reason=None)
    return state


def decide(state: Charge, command: ChargeCommand) -> Sequence[DomainEvent]:
    match command:
        case CreateCharge():
            return _create(state, command)
        case CorrectCharge():
            return _correct(state, _existing(state, command.charge_id), command)
        case HoldCharge():
            return _hold(state, _existing(state, command.charge_id), command)
        case ReleaseCharge():
            return _release(state, _existing(state, command.charge_id), command)
        case RepriceCharge():
            return _reprice(state, _existing(state, command.charge_id), command)


def _existing(state: Charge, charge_id: str) -> ChargeCreated:
    if state.created is None:
        raise NotFound(f"charge {charge_id} not found")
    return state.created


def _priced(
    lines: Sequence[CodedLine], version: FeeScheduleVersionPublished | None
) -> tuple[ChargeLine, ...]:
    def fee(line: CodedLine) -> int:
        found = fee_of(version, line.code, line.modifiers) if version is not None else None
        return found.amount_cents if found is not None else 0

    return tuple(
        ChargeLine(
            line_id=str(n),
            code=line.code,
            modifiers=line.modifiers,
            units=line.units,
            diagnosis_pointers=line.diagnosis_pointers,
            fee_cents=fee(line),
        )
        for n, line in enumerate(lines, start=1)
    )


def _create(state: Charge, c: CreateCharge) -> Sequence[DomainEvent]:
    if state.created is not None:
        return []  # one charge per visit: a redelivery or a re-completion records nothing
    pointers = default_pointers(c.diagnoses)
    coded = [
        CodedLine(code=code, modifiers=modifiers, diagnosis_pointers=pointers)
        for code, modifiers in map(procedure, c.procedures)
    ]
    version = c.pricing.schedule.in_force(c.date_of_service)
    number = version.schedule_version if version is not None else None
    lines = _priced(coded, version)
    schedule = coding.priced_by(c.pricing.payer_name, number, c.date_of_service)
    issues = coding.check(c.pricing.book, c.diagnoses, lines, schedule)
    created = ChargeCreated(
        charge_id=c.charge_id,
        appointment_id=c.appointment_id,
        patient_id=c.patient_id,
        site_id=c.site_id,
        provider_id=c.provider_id,
        date_of_service=c.date_of_service,
        diagnoses=c.diagnoses,
        lines=lines,
        payer_id=c.pricing.payer_id,
        fee_schedule_version=number,
        created_at=c.created_at,
        learnt_from=c.learnt_from,
        issues=issues,
    )
    if issues:
        return [
            created,
            ChargeHeld(charge_id=c.charge_id, reason=CODING, held_at=c.created_at),
        ]
    return [created, ChargeReleased(charge_id=c.charge_id, released_at=c.created_at)]


def _correct(state: Charge, created: ChargeCreated, c: CorrectCharge) -> Sequence[DomainEvent]:
    if state.status == "released":
        raise Rejected(f"charge {c.charge_id} is released: hold it before correcting its codes")
    if not c.reason.strip() or len(c.reason) > MAX_REASON:
        raise Invalid(f"a correction gives its reason (1 to {MAX_REASON} characters)")
    if c.pricing.payer_id != state.payer_id:
        raise Invalid(f"charge {c.charge_id} is priced for payer {state.payer_id}")
    if state.fee_schedule_version is not None:
        # The version that priced the charge first, and no other (a later one never reprices).
        version = next(
            (
                v
                for v in c.pricing.schedule.versions
                if v.schedule_version == state.fee_schedule_version
            ),
            None,
        )
    else:
        version = c.pricing.schedule.in_force(created.date_of_service)
    number = version.schedule_version if version is not None else None
    lines = _priced(c.lines, version)
    if c.diagnoses == state.diagnoses and lines == state.lines:
        return []  # the same codes again (a retried request): nothing changes
    schedule = coding.priced_by(c.pricing.payer_name, number, created.date_of_service)
    issues = coding.check(c.pricing.book, c.diagnoses, lines, schedule)
    return [
        ChargeCorrected(
            charge_id=c.charge_id,
            diagnoses=c.diagnoses,
            lines=lines,
            reason=c.reason,
            corrected_at=c.corrected_at,
            issues=issues,
            fee_schedule_version=number,
        )
    ]


def _hold(state: Charge, _: ChargeCreated, c: HoldCharge) -> Sequence[DomainEvent]:
    if not c.reason.strip() or len(c.reason) > MAX_REASON:
        raise Invalid(f"a hold gives its reason (1 to {MAX_REASON} characters)")
    if state.status == "held":
        raise Rejected(f"charge {c.charge_id} is held already ({state.hold_reason})")
    return [ChargeHeld(charge_id=c.charge_id, reason=c.reason, held_at=c.held_at)]


def _release(state: Charge, created: ChargeCreated, c: ReleaseCharge) -> Sequence[DomainEvent]:
    if state.status == "released":
        raise Rejected(f"charge {c.charge_id} is released already")
    schedule = coding.priced_by(
        c.pricing.payer_name, state.fee_schedule_version, created.date_of_service
    )
    issues = coding.check(c.pricing.book, state.diagnoses, state.lines, schedule)
    if issues:
        raise CodingIssues(c.charge_id, issues)
    return [ChargeReleased(charge_id=c.charge_id, released_at=c.released_at)]


def _reprice(state: Charge, created: ChargeCreated, c: RepriceCharge) -> Sequence[DomainEvent]:
    if c.learnt_from in state.learnt or state.payer_id != SELF_PAY or c.claimed:
        return []  # repriced from this coverage already, not self-pay (any more), or claimed
    if c.pricing.payer_id == SELF_PAY:
        return []
    coded = [
        CodedLine(
            code=line.code,
            modifiers=line.modifiers,
            units=line.units,
            diagnosis_pointers=line.diagnosis_pointers,
        )
        for line in state.lines
    ]
    version = c.pricing.schedule.in_force(created.date_of_service)
    number = version.schedule_version if version is not None else None
    lines = _priced(coded, version)
    schedule = coding.priced_by(c.pricing.payer_name, number, created.date_of_service)
    issues = coding.check(c.pricing.book, state.diagnoses, lines, schedule)
    corrected: list[DomainEvent] = [
        ChargeCorrected(
            charge_id=c.charge_id,
            diagnoses=state.diagnoses,
            lines=lines,
            reason=COVERAGE_LEARNT,
            corrected_at=c.corrected_at,
            issues=issues,
            learnt_from=c.learnt_from,
            fee_schedule_version=number,
            payer_id=c.pricing.payer_id,
        )
    ]
    if issues and state.status == "released":
        # Not a claim with these codes: to the coding-errors queue, released when fixed.
        corrected.append(ChargeHeld(charge_id=c.charge_id, reason=CODING, held_at=c.corrected_at))
    return corrected


charge = Decider[Charge, ChargeCommand](Charge(), evolve, decide)
