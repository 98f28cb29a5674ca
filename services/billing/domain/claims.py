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
    ClaimAdjudicationReversed,
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
    RemittedClaim,
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
    standing: tuple[ClaimAdjudicated, ...] = ()  # adjudications not reversed, oldest first
    reversals: tuple[ClaimAdjudicationReversed, ...] = ()
    posting_ids: frozenset[str] = frozenset()  # every posting recorded (adjudication, reversal)

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
                standing=(*state.standing, event),
                posting_ids=_with(state.posting_ids, event.posting_id),
            )
        case ClaimAdjudicationReversed():
            standing = tuple(a for a in state.standing if a.posting_id != event.reverses)
            last = standing[-1] if standing else None
            if state.replaced_by is not None:
                status = state.status  # resubmitted or voided: the replacement stands for it
            elif last is not None:
                status = last.outcome
            else:
                status = "accepted"  # adjudicable again: a correction posts anew
            return replace(
                state,
                status=status,
                adjudication=last,
                standing=standing,
                reversals=(*state.reversals, event),
                posting_ids=state.posting_ids | {event.posting_id},
            )
        case ClaimAppealed():
            return replace(state, status="appealed")
        case ClaimWrittenOff():
            return replace(state, status="written_off")
        case ClaimReplaced():
            status = "voided" if event.frequency == "8" else "resubmitted"
            return replace(state, status=status, replaced_by=event.by_claim_id)
    return state


def _with(ids: frozenset[str], posting_id: str | None) -> frozenset[str]:
    return ids if posting_id is None else ids | {posting_id}


# ----------------------------------------------------------------------------- commands


class CreateClaim(Command):
    """Make a claim (draft), and ready at once when `problems` (the checks' findings) is
    empty. Creating a claim that exists records nothing (a redelivered release).
    `crossed_over`: the batch id of a claim the primary payer forwarded to this payer itself
    (a crossover, CLP02 19-21): it is submitted at once, in the same commit, and never sent."""

    claim: ClaimCreated
    problems: tuple[str, ...]
    crossed_over: str | None = None


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
    posting_id: str | None = None  # what a reversal names


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


class PostRemittedClaim(Command):
    """A remittance's payment of this claim (its CLP loop): an adjudication, or for a reversal
    (CLP02 22) the undoing of the posting it takes back."""

    claim_id: str
    posting_id: str  # `remittances.posting_id_for(remittance_id, index)`
    remittance_id: str
    remitted: RemittedClaim
    line_ids: tuple[str, ...]  # the claim's lines, as REF*6R names them after "<claim id>-"
    paid_on: date  # BPR16, else the day the remittance was received
    recorded_at: AwareDatetime
    payer_id: str | None = None  # the remittance's payer, when known (None: not checked)


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
    | PostRemittedClaim
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
        ready = ClaimReady(claim_id=claim.claim_id, ready_at=claim.created_at)
        if command.crossed_over is not None:
            submitted = ClaimSubmitted(
                claim_id=claim.claim_id,
                batch_id=command.crossed_over,
                submitted_at=claim.created_at,
            )
            return [claim, ready, submitted]
        return [claim, ready]
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
                    amount_cents=insurance_balance(state),
                    written_off_at=command.written_off_at,
                )
            ]
        case PostRemittedClaim():
            if posting_verdict(state, command) != "new":
                return []
            if command.remitted.status_code == REVERSAL:
                return [_reversal(state, command)]
            return [_remitted(state, command)]
        case ReplaceClaim():
            if state.replaced_by == command.by_claim_id:
                return []  # the replacement's second try
            if state.status not in REPLACEABLE or state.payer_claim_control_number is None:
                raise _refuse(state, "replaced or voided")
            return [ClaimReplaced(**command.model_dump())]
    raise AssertionError(f"unhandled {type(command).__name__}")


def taken_off(event: ClaimAdjudicated) -> int:
    """What an adjudication takes off the claim's insurance balance: paid, the payer's own
    adjustments (claim and lines; PR excluded: it is the patient responsibility) and the
    patient responsibility. A denial's adjustments are not taken off: a denied claim stays
    owed, to be appealed or written off, as billers work denials."""
    if event.outcome == "denied":
        return event.paid_cents + event.patient_responsibility_cents
    adjustments: list[Adjustment] = list(event.adjustments)
    for line in event.lines:
        adjustments.extend(line.adjustments)
    payer = sum(a.amount_cents for a in adjustments if a.group != "PR")
    return event.paid_cents + payer + event.patient_responsibility_cents


def insurance_balance(state: ClaimState) -> int:
    """What is still owed on the claim by its payer, as receivables carry it: the whole claim
    before adjudication, after it what the adjudication did not take off (`taken_off`). A
    write-off gives up this much, so the claim's balance ends at zero, never below."""
    assert state.created is not None
    if state.adjudication is None:
        return state.created.total_cents
    return max(state.created.total_cents - taken_off(state.adjudication), 0)


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
        posting_id=command.posting_id,
    )


# ----------------------------------------------------------------------------- remittances

PROCESSED = ("1", "2", "3", "19", "20", "21")  # as primary/secondary/tertiary (and forwarded)
FORWARDED = ("19", "20", "21")  # processed, and forwarded to the next payer (a crossover)
AS_SECONDARY = "2"


def crossover_batch(primary_claim_id: str) -> str:
    """The batch a crossed-over claim stands in: none of ours, the primary payer sent it."""
    return f"crossover-{primary_claim_id}"


DENIED = "4"
REVERSAL = "22"
ANSWERED_STATUSES = ("paid", "partially_paid", "denied")

PostingVerdict = Literal["new", "posted_here", "already_posted"]


class Unpostable(Rejected):
    """A claim payment posting cannot take as it stands: it waits in the unmatched queue with
    this reason for a biller, never guessed."""


def posting_verdict(state: ClaimState, command: PostRemittedClaim) -> PostingVerdict:
    """Whether a remittance's claim payment is new to the claim, was posted by this very
    posting before (a posting resumed), or was posted from another remittance (the same
    payment in another file: the payer's claim control number, CLP07, and its amounts);
    `Unpostable` with the reason when it cannot be posted."""
    assert state.created is not None
    if command.posting_id in state.posting_ids:
        return "posted_here"
    remitted = command.remitted
    pccn = remitted.payer_claim_control_number
    if not pccn.strip():
        raise Unpostable("the payment names no payer claim control number (CLP07)")
    if remitted.status_code == REVERSAL:
        return _reversal_verdict(state, remitted)
    if remitted.status_code not in (*PROCESSED, DENIED):
        raise Unpostable(f"claim status {remitted.status_code} is not a payment to post")
    if any(_same_payment(a, remitted) for a in state.standing):
        return "already_posted"
    if state.status in ANSWERED_STATUSES:
        held = state.payer_claim_control_number
        raise Unpostable(
            f"claim {state.claim_id} is {state.status} under payer claim {held}: a new "
            "payment without a reversal of that one is not posted"
        )
    if state.status not in ADJUDICABLE:
        raise Unpostable(f"claim {state.claim_id} is {state.status}: it cannot take a payment")
    if command.payer_id is not None and command.payer_id != state.created.payer_id:
        raise Unpostable(
            f"claim {state.claim_id} was billed to {state.created.payer_id}, not {command.payer_id}"
        )
    if remitted.charge_cents != state.created.total_cents:
        raise Unpostable(
            f"the payment is for a charge of {remitted.charge_cents} cents; the claim billed "
            f"{state.created.total_cents}"
        )
    if remitted.paid_cents < 0 or remitted.patient_responsibility_cents < 0:
        raise Unpostable("a payment that is not a reversal has no negative amounts")
    if remitted.paid_cents > state.created.total_cents:
        raise Unpostable(f"paid {remitted.paid_cents} is more than the claim's charge")
    prefix = f"{state.claim_id}-"
    for line in remitted.lines:
        ref = line.line_id
        if ref and (not ref.startswith(prefix) or ref.removeprefix(prefix) not in command.line_ids):
            raise Unpostable(f"line {ref} (REF*6R) is not a line of the claim")
    return "new"


def _same_payment(posted: ClaimAdjudicated, remitted: RemittedClaim) -> bool:
    return (
        posted.payer_claim_control_number == remitted.payer_claim_control_number
        and posted.paid_cents == remitted.paid_cents
        and posted.patient_responsibility_cents == remitted.patient_responsibility_cents
    )


def _reversed_target(state: ClaimState, remitted: RemittedClaim) -> ClaimAdjudicated | None:
    """The standing adjudication a reversal takes back: the latest under its CLP07 whose
    amounts it undoes."""
    for posted in reversed(state.standing):
        if (
            posted.payer_claim_control_number == remitted.payer_claim_control_number
            and posted.paid_cents == -remitted.paid_cents
        ):
            return posted
    return None


def _reversal_verdict(state: ClaimState, remitted: RemittedClaim) -> PostingVerdict:
    pccn = remitted.payer_claim_control_number
    done = [
        r
        for r in state.reversals
        if r.payer_claim_control_number == pccn and r.paid_cents == -remitted.paid_cents
    ]
    target = _reversed_target(state, remitted)
    if target is None:
        if done:
            return "already_posted"  # the same reversal in another file
        raise Unpostable(f"a reversal of payer claim {pccn}, which has no payment posted here")
    if done and target.remittance_id in {r.remittance_id for r in done}:
        # The reversal came before with its correction (the target), in one remittance: this
        # is that pair again, in another file.
        return "already_posted"
    if target.posting_id is None:
        raise Unpostable(f"payer claim {pccn} was keyed in from paper: reverse it by hand")
    return "new"


def _outcome(remitted: RemittedClaim) -> Literal["paid", "partially_paid", "denied"]:
    if remitted.status_code == DENIED or (
        remitted.paid_cents == 0 and remitted.patient_responsibility_cents == 0
    ):
        return "denied"
    if any(line.paid_cents == 0 for line in remitted.lines) and remitted.paid_cents > 0:
        return "partially_paid"
    return "paid"


def _remitted(state: ClaimState, command: PostRemittedClaim) -> ClaimAdjudicated:
    remitted, prefix = command.remitted, f"{state.claim_id}-"
    return ClaimAdjudicated(
        claim_id=state.claim_id,
        outcome=_outcome(remitted),
        paid_cents=remitted.paid_cents,
        patient_responsibility_cents=remitted.patient_responsibility_cents,
        payer_claim_control_number=remitted.payer_claim_control_number,
        adjustments=remitted.adjustments,
        lines=tuple(
            line.model_copy(update={"line_id": line.line_id.removeprefix(prefix)})
            for line in remitted.lines
        ),
        adjudicated_on=command.paid_on,
        recorded_at=command.recorded_at,
        posting_id=command.posting_id,
        remittance_id=command.remittance_id,
        claim_status_code=remitted.status_code,
        remarks=remitted.remarks,
    )


def _reversal(state: ClaimState, command: PostRemittedClaim) -> ClaimAdjudicationReversed:
    target = _reversed_target(state, command.remitted)
    assert target is not None
    assert target.posting_id is not None
    return ClaimAdjudicationReversed(
        claim_id=state.claim_id,
        posting_id=command.posting_id,
        reverses=target.posting_id,
        remittance_id=command.remittance_id,
        payer_claim_control_number=target.payer_claim_control_number,
        paid_cents=target.paid_cents,
        patient_responsibility_cents=target.patient_responsibility_cents,
        reversed_on=command.paid_on,
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
