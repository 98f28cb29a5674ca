"""One claim's lifecycle, on `streams.claim(tenant, claim_id)`:

    draft -> ready -> submitted -> accepted | rejected -> paid | partially_paid | denied
          -> appealed | resubmitted / voided (a replacement or void stands for it) | written_off

A draft claim failed its checks (`ClaimNotReady` lists the problems: a work queue) and stays
draft until a re-check finds none; a ready claim whose checks fail again goes back to draft; a
rejected claim may be corrected and made ready again.
Adjudication comes from a remittance or a paper EOB, after acceptance (or straight after
submission: a payer may pay without a 277CA), or after an appeal. Every other step is refused
(409). Claim ids are deterministic (`claim_id_for`), so a redelivered release makes no second
claim: creating one that exists records nothing.

Also here: the fold of a charge a claim is made from (its diagnoses and lines, as created and
corrected), which claims read without depending on the charges area's decider.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from pydantic import AwareDatetime

from services.billing.domain.events import (
    Adjustment,
    BillingProviderSet,
    ChargeCorrected,
    ChargeCreated,
    ChargeLine,
    ChargeReleased,
    ClaimAccepted,
    ClaimAdjudicated,
    ClaimAppealed,
    ClaimCreated,
    ClaimNotReady,
    ClaimReady,
    ClaimRejected,
    ClaimReplaced,
    ClaimSubmitted,
    ClaimWrittenOff,
    Frequency,
    LineAdjudication,
    PayerDefined,
    PostalAddress,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

MAX_CLAIM_ID = 20  # CLM01


def claim_id_for(*parts: str) -> str:
    """A claim id (CLM01: at most 20 characters, letters and digits) that the same parts
    always give: the primary claim of a charge is `claim_id_for(charge_id)`, the claim to the
    n-th payer `claim_id_for(charge_id, str(n))`, a replacement or void of a claim
    `claim_id_for(claim_id, frequency)`."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest().upper()
    return "C" + digest[: MAX_CLAIM_ID - 1]


# ----------------------------------------------------------------------------- charges


@dataclass(frozen=True)
class ChargeFacts:
    """A charge as a claim needs it: who, where, when, its diagnoses and lines."""

    created: ChargeCreated | None = None
    diagnoses: tuple[str, ...] = ()
    lines: tuple[ChargeLine, ...] = ()
    released: bool = False
    payer_id: str = ""  # whose schedule priced it now (a repricing changes it)

    @property
    def total_cents(self) -> int:
        return sum(line.fee_cents * line.units for line in self.lines)


def evolve_charge(state: ChargeFacts, event: DomainEvent) -> ChargeFacts:
    match event:
        case ChargeCreated():
            return ChargeFacts(event, event.diagnoses, event.lines, state.released, event.payer_id)
        case ChargeCorrected():
            return replace(
                state,
                diagnoses=event.diagnoses,
                lines=event.lines,
                payer_id=event.payer_id or state.payer_id,
            )
        case ChargeReleased():
            return replace(state, released=True)
    return state


def _reads_only(state: ChargeFacts, command: object) -> Sequence[DomainEvent]:
    raise Rejected("claims read charges, never change them")


charge_facts = Decider[ChargeFacts, object](ChargeFacts(), evolve_charge, _reads_only)


# ----------------------------------------------------------------------------- claim state

Status = str  # draft, ready, submitted, accepted, rejected, paid, partially_paid, denied,
# appealed, resubmitted, voided, written_off

ANSWERED = ("accepted", "rejected", "paid", "partially_paid", "denied")


@dataclass(frozen=True)
class ClaimState:
    created: ClaimCreated | None = None
    status: Status = ""
    problems: tuple[str, ...] = ()  # of the last check, while draft (or rejected)
    reasons: tuple[str, ...] = ()  # of the last rejection
    batch_id: str | None = None
    adjudication: ClaimAdjudicated | None = None
    payer_claim_control_number: str | None = None  # the payer's (277CA or remittance)
    replaced_by: str | None = None

    @property
    def claim_id(self) -> str:
        assert self.created is not None
        return self.created.claim_id


def evolve(state: ClaimState, event: DomainEvent) -> ClaimState:
    match event:
        case ClaimCreated():
            return ClaimState(created=event, status="draft")
        case ClaimNotReady():
            # A ready claim whose checks fail again (an enrolment ended, a coverage changed)
            # goes back to draft and the work queue; a draft or rejected one stays where it is.
            status = "draft" if state.status == "ready" else state.status
            return replace(state, status=status, problems=event.problems)
        case ClaimReady():
            return replace(state, status="ready", problems=())
        case ClaimSubmitted():
            return replace(state, status="submitted", batch_id=event.batch_id, reasons=())
        case ClaimAccepted():
            pccn = event.payer_claim_control_number or state.payer_claim_control_number
            return replace(state, status="accepted", payer_claim_control_number=pccn)
        case ClaimRejected():
            return replace(state, status="rejected", reasons=event.reasons)
        case ClaimAdjudicated():
            return replace(
                state,
                status=event.outcome,
                adjudication=event,
                payer_claim_control_number=event.payer_claim_control_number,
            )
        case ClaimAppealed():
            return replace(state, status="appealed")
        case ClaimWrittenOff():
            return replace(state, status="written_off")
        case ClaimReplaced():
            status = "voided" if event.frequency == "8" else "resubmitted"
            return replace(state, status=status, replaced_by=event.by_claim_id)
    return state


# ----------------------------------------------------------------------------- commands


class CreateClaim(Command):
    """Make a claim (draft), and ready at once when `problems` (the checks' findings) is
    empty. Creating a claim that exists records nothing (a redelivered release)."""

    claim: ClaimCreated
    problems: tuple[str, ...]


class CheckClaim(Command):
    """The checks ran again: ready when they found nothing, else the problems recorded."""

    claim_id: str
    problems: tuple[str, ...]
    checked_at: AwareDatetime


class SubmitClaim(Command):
    claim_id: str
    batch_id: str
    submitted_at: AwareDatetime


class AcceptClaim(Command):
    claim_id: str
    accepted_at: AwareDatetime
    payer_claim_control_number: str | None = None


class RejectClaim(Command):
    claim_id: str
    reasons: tuple[str, ...]
    rejected_at: AwareDatetime


class AdjudicateClaim(Command):
    claim_id: str
    outcome: Literal["paid", "partially_paid", "denied"]
    paid_cents: int
    patient_responsibility_cents: int
    payer_claim_control_number: str
    adjustments: tuple[Adjustment, ...] = ()
    lines: tuple[LineAdjudication, ...] = ()
    adjudicated_on: date
    recorded_at: AwareDatetime


class AppealClaim(Command):
    claim_id: str
    reason: str
    appealed_at: AwareDatetime


class WriteOffClaim(Command):
    claim_id: str
    reason: str
    written_off_at: AwareDatetime


class ReplaceClaim(Command):
    """Mark a claim replaced (7) or voided (8) by `by_claim_id`."""

    claim_id: str
    by_claim_id: str
    frequency: Frequency
    replaced_at: AwareDatetime


ClaimCommand = (
    CreateClaim
    | CheckClaim
    | SubmitClaim
    | AcceptClaim
    | RejectClaim
    | AdjudicateClaim
    | AppealClaim
    | WriteOffClaim
    | ReplaceClaim
)

ADJUDICABLE = ("submitted", "accepted", "appealed")
APPEALABLE = ("denied", "partially_paid")
WRITABLE_OFF = ("denied", "partially_paid", "appealed", "rejected")
# A replacement or void names the payer's claim control number (REF*F8): a claim the payer
# accepted with one (277CA) or adjudicated (remittance, EOB) may be replaced or voided.
REPLACEABLE = ("accepted", "paid", "partially_paid", "denied", "appealed")


def _refuse(state: ClaimState, step: str) -> Rejected:
    return Rejected(f"claim {state.claim_id} is {state.status}: it cannot be {step}")


def decide(state: ClaimState, command: ClaimCommand) -> Sequence[DomainEvent]:
    if isinstance(command, CreateClaim):
        if state.created is not None:
            return []
        claim = command.claim
        if not claim.claim_id or len(claim.claim_id) > MAX_CLAIM_ID:
            raise Invalid(f"a claim id has 1 to {MAX_CLAIM_ID} characters")
        if claim.total_cents <= 0:
            raise Invalid("a claim bills more than nothing")
        if command.problems:
            return [
                claim,
                ClaimNotReady(
                    claim_id=claim.claim_id,
                    problems=command.problems,
                    checked_at=claim.created_at,
                ),
            ]
        return [claim, ClaimReady(claim_id=claim.claim_id, ready_at=claim.created_at)]
    if state.created is None:
        raise NotFound(f"claim {command.claim_id} not found")
    match command:
        case CheckClaim():
            if state.status == "ready":
                if not command.problems:
                    return []  # still ready
                return [
                    ClaimNotReady(
                        claim_id=state.claim_id,
                        problems=command.problems,
                        checked_at=command.checked_at,
                    )
                ]
            if state.status not in ("draft", "rejected"):
                raise _refuse(state, "made ready")
            if command.problems:
                if command.problems == state.problems:
                    return []
                return [
                    ClaimNotReady(
                        claim_id=state.claim_id,
                        problems=command.problems,
                        checked_at=command.checked_at,
                    )
                ]
            return [ClaimReady(claim_id=state.claim_id, ready_at=command.checked_at)]
        case SubmitClaim():
            if state.status == "submitted" and state.batch_id == command.batch_id:
                return []  # the batch's sending recorded twice
            if state.status != "ready":
                raise _refuse(state, "submitted")
            return [ClaimSubmitted(**command.model_dump())]
        case AcceptClaim():
            if state.status == "accepted":
                return []  # the same 277CA read twice
            if state.status != "submitted":
                raise _refuse(state, "accepted")
            return [ClaimAccepted(**command.model_dump())]
        case RejectClaim():
            if state.status == "rejected" and state.reasons == command.reasons:
                return []
            if state.status not in ("submitted", "accepted"):
                raise _refuse(state, "rejected")
            if not command.reasons:
                raise Invalid("a rejection gives its reasons")
            return [ClaimRejected(**command.model_dump())]
        case AdjudicateClaim():
            if state.status not in ADJUDICABLE:
                raise _refuse(state, "adjudicated")
            return [_adjudicated(state, command)]
        case AppealClaim():
            if state.status not in APPEALABLE:
                raise _refuse(state, "appealed")
            return [ClaimAppealed(**command.model_dump())]
        case WriteOffClaim():
            if state.status not in WRITABLE_OFF:
                raise _refuse(state, "written off")
            return [
                ClaimWrittenOff(
                    claim_id=state.claim_id,
                    reason=command.reason,
                    amount_cents=left_to_collect(state),
                    written_off_at=command.written_off_at,
                )
            ]
        case ReplaceClaim():
            if state.replaced_by == command.by_claim_id:
                return []  # the replacement's second try
            if state.status not in REPLACEABLE or state.payer_claim_control_number is None:
                raise _refuse(state, "replaced or voided")
            return [ClaimReplaced(**command.model_dump())]
    raise AssertionError(f"unhandled {type(command).__name__}")


def left_to_collect(state: ClaimState) -> int:
    """What the payer has not paid of the claim (all of it before adjudication)."""
    assert state.created is not None
    paid = state.adjudication.paid_cents if state.adjudication else 0
    return max(state.created.total_cents - paid, 0)


def _adjudicated(state: ClaimState, command: AdjudicateClaim) -> ClaimAdjudicated:
    assert state.created is not None
    total = state.created.total_cents
    if command.paid_cents < 0 or command.patient_responsibility_cents < 0:
        raise Invalid("amounts are not negative")
    if command.paid_cents > total:
        raise Invalid(f"paid {command.paid_cents} is more than the claim's {total} cents")
    if command.outcome == "denied" and command.paid_cents:
        raise Invalid("a denied claim is paid nothing")
    if command.outcome == "paid" and command.paid_cents == 0:
        raise Invalid("a paid claim is paid something")
    if not command.payer_claim_control_number.strip():
        raise Invalid("the payer's claim control number is needed")
    return ClaimAdjudicated(
        claim_id=state.claim_id,
        outcome=command.outcome,
        paid_cents=command.paid_cents,
        patient_responsibility_cents=command.patient_responsibility_cents,
        payer_claim_control_number=command.payer_claim_control_number,
        adjustments=command.adjustments,
        lines=command.lines,
        adjudicated_on=command.adjudicated_on,
        recorded_at=command.recorded_at,
    )


claim = Decider[ClaimState, ClaimCommand](ClaimState(), evolve, decide)


# ----------------------------------------------------------------------------- the facts read


@dataclass(frozen=True)
class Latest:
    """The latest definition on a reference stream (a payer, a site's billing provider)."""

    event: DomainEvent | None = None


def _latest_of(kind: type[DomainEvent]) -> Decider[Latest, object]:
    def evolve_latest(state: Latest, event: DomainEvent) -> Latest:
        return Latest(event) if isinstance(event, kind) else state

    return Decider[Latest, object](Latest(), evolve_latest, _reads_only_latest)


def _reads_only_latest(state: Latest, command: object) -> Sequence[DomainEvent]:
    raise Rejected("claims read reference data, never change it")


payer_definition = _latest_of(PayerDefined)
billing_provider = _latest_of(BillingProviderSet)


_ZIP = re.compile(r"(\d{5})(?:-?(\d{4}))?")
_STATE = re.compile(r"[A-Za-z]{2}")


def parse_address(text: str) -> PostalAddress | None:
    """A free-text address as registered, "line[, line 2], city, ST 12345[-6789]", as N3/N4
    carry it; None when it does not read so (the claim is then not ready)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 3 or not all(parts):
        return None
    state_zip = parts[-1].split()
    if len(state_zip) != 2:
        return None
    state, postal = state_zip
    zip_match = _ZIP.fullmatch(postal)
    if _STATE.fullmatch(state) is None or zip_match is None:
        return None
    lines = parts[:-2]
    if len(lines) > 2:
        return None
    return PostalAddress(
        line1=lines[0],
        line2=lines[1] if len(lines) > 1 else "",
        city=parts[-2],
        state=state.upper(),
        postal_code="".join(g for g in zip_match.groups() if g),
    )


def split_name(full: str) -> tuple[str, str, str]:
    """(last, first, middle) of a name written "Last, First Middle" or "First Middle Last"."""
    if "," in full:
        last, _, rest = full.partition(",")
        given = rest.split()
    else:
        words = full.split()
        last, given = (words[-1], words[:-1]) if words else ("", [])
    return last.strip(), given[0] if given else "", " ".join(given[1:])


def sex_code(sex: str) -> str:
    """DMG03: F, M, or U for anything else (other, unknown, not given)."""
    return {"female": "F", "male": "M"}.get(sex.strip().lower(), "U")


RELATIONSHIP_CODES = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}


def relationship_code(relationship: str) -> str:
    return RELATIONSHIP_CODES.get(relationship.strip().lower(), "G8")
