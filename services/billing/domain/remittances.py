"""A remittance (one 835 payment: one payer's check or EFT to one payee), on
`streams.remittance(tenant, remittance_id)`, its id from the payer and the trace number (TRN02).

    received (its claims held, in file order) -> each claim posted, found posted before, or
    queued unmatched -> posted

Taking the same payment again (the same file twice, or another file with the same payer and
trace number) adds only the claims not held yet: a file split differently adds the claims the
earlier parts lacked, and a repeated one adds nothing. Claims are told apart by what they say
(CLP01, CLP02, CLP07 and the amounts), counted, so a claim the payer lists twice on purpose (a
reversal and its correction under one number) is held twice.

The posting itself happens on each claim's stream (`claims.post_remittance`); here the
remittance records which of its claims matched nothing (`RemittanceClaimUnmatched`, once per
position) and, when every claim has its answer, `RemittancePosted` with the counts. A posting
cut short (a crash) is simply run again: each step records nothing the second time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.billing.domain.events import (
    RemittanceClaimMatched,
    RemittanceClaimsReceived,
    RemittanceClaimUnmatched,
    RemittancePosted,
    RemittanceReceived,
    RemittedClaim,
)
from shared.domain import Decider, NotFound, Rejected
from shared.events import DomainEvent

PART = 100  # claims per `RemittanceClaimsReceived`: an event stays small


def claim_key(claim: RemittedClaim) -> tuple[str, str, str, int, int]:
    """What tells a file's claim payments apart: the same key in two files is the same one."""
    return (
        claim.claim_ref,
        claim.status_code,
        claim.payer_claim_control_number,
        claim.charge_cents,
        claim.paid_cents,
    )


def posting_id_for(remittance_id: str, index: int) -> str:
    """The posting of the remittance's claim at `index`: what the claim's stream records it
    by, so a posting resumed or repeated is recognised."""
    return f"{remittance_id}-{index}"


@dataclass(frozen=True)
class RemittanceState:
    received: RemittanceReceived | None = None
    claims: tuple[RemittedClaim, ...] = ()
    unmatched: tuple[RemittanceClaimUnmatched, ...] = ()  # in the order they were found
    posted: RemittancePosted | None = None
    matched: tuple[RemittanceClaimMatched, ...] = ()  # unmatched ones a biller resolved

    @property
    def unmatched_at(self) -> frozenset[int]:
        return frozenset(u.index for u in self.unmatched)

    @property
    def matched_at(self) -> frozenset[int]:
        return frozenset(m.index for m in self.matched)

    @property
    def waiting(self) -> tuple[RemittanceClaimUnmatched, ...]:
        """The claim payments still on the unmatched queue."""
        return tuple(u for u in self.unmatched if u.index not in self.matched_at)

    @property
    def answered(self) -> int:
        """How many claims (from the first) the last `RemittancePosted` accounted for."""
        if self.posted is None:
            return 0
        p = self.posted
        return p.posted + p.already_posted + p.unmatched

    @property
    def pending(self) -> bool:
        """Received, and claims (or its provider adjustments) not yet accounted for."""
        return self.received is not None and (
            self.posted is None or self.answered < len(self.claims)
        )


def evolve(state: RemittanceState, event: DomainEvent) -> RemittanceState:
    match event:
        case RemittanceReceived():
            return replace(state, received=event)
        case RemittanceClaimsReceived():
            return replace(state, claims=(*state.claims, *event.claims))
        case RemittanceClaimUnmatched():
            return replace(state, unmatched=(*state.unmatched, event))
        case RemittancePosted():
            return replace(state, posted=event)
        case RemittanceClaimMatched():
            return replace(state, matched=(*state.matched, event))
    return state


@dataclass(frozen=True)
class Receive:
    """A file's payment with its claims, in file order."""

    received: RemittanceReceived
    claims: tuple[RemittedClaim, ...]


@dataclass(frozen=True)
class RecordUnmatched:
    index: int
    reason: str
    found_at: datetime


@dataclass(frozen=True)
class RecordPosted:
    posted: int
    already_posted: int
    unmatched: int
    provider_adjustments: int
    posted_at: datetime


@dataclass(frozen=True)
class RecordMatched:
    """An unmatched claim payment, posted by a biller to `claim_id`."""

    index: int
    claim_id: str
    matched_by: str
    matched_at: datetime


RemittanceCommand = Receive | RecordUnmatched | RecordPosted | RecordMatched


def check_waiting(state: RemittanceState, index: int) -> None:
    """That the claim payment at `index` is on the unmatched queue (else 404 or 409)."""
    if state.received is None:
        raise NotFound("no such remittance")
    if index not in state.unmatched_at:
        raise NotFound(f"claim payment {index} of the remittance is not on the unmatched queue")
    if index in state.matched_at:
        raise Rejected(f"claim payment {index} of the remittance was matched already")


def new_claims(state: RemittanceState, claims: Sequence[RemittedClaim]) -> list[RemittedClaim]:
    """The claims of a file the remittance does not hold yet (counted: a claim held once and
    sent twice in the new file is added once)."""
    held = Counter(claim_key(c) for c in state.claims)
    out = []
    for claim in claims:
        key = claim_key(claim)
        if held[key]:
            held[key] -= 1
        else:
            out.append(claim)
    return out


def _parts(remittance_id: str, first: int, claims: Sequence[RemittedClaim]) -> list[DomainEvent]:
    return [
        RemittanceClaimsReceived(
            remittance_id=remittance_id,
            first_index=first + start,
            claims=tuple(claims[start : start + PART]),
        )
        for start in range(0, len(claims), PART)
    ]


def decide(state: RemittanceState, command: RemittanceCommand) -> Sequence[DomainEvent]:
    match command:
        case Receive():
            rid = command.received.remittance_id
            if state.received is None:
                return [command.received, *_parts(rid, 0, command.claims)]
            return _parts(rid, len(state.claims), new_claims(state, command.claims))
        case RecordUnmatched():
            if state.received is None:
                raise Rejected("no such remittance")
            if command.index in state.unmatched_at:
                return []
            claim = state.claims[command.index]
            return [
                RemittanceClaimUnmatched(
                    remittance_id=state.received.remittance_id,
                    index=command.index,
                    claim_ref=claim.claim_ref,
                    payer_claim_control_number=claim.payer_claim_control_number,
                    paid_cents=claim.paid_cents,
                    reason=command.reason,
                    found_at=command.found_at,
                )
            ]
        case RecordPosted():
            if state.received is None:
                raise Rejected("no such remittance")
            if not state.pending:
                return []
            return [
                RemittancePosted(
                    remittance_id=state.received.remittance_id,
                    posted=command.posted,
                    already_posted=command.already_posted,
                    unmatched=command.unmatched,
                    provider_adjustments=command.provider_adjustments,
                    posted_at=command.posted_at,
                )
            ]
        case RecordMatched():
            if any(m.index == command.index for m in state.matched):
                return []
            check_waiting(state, command.index)
            assert state.received is not None
            return [
                RemittanceClaimMatched(
                    remittance_id=state.received.remittance_id,
                    index=command.index,
                    claim_id=command.claim_id,
                    matched_by=command.matched_by,
                    matched_at=command.matched_at,
                )
            ]
    raise AssertionError(f"unhandled {type(command).__name__}")


remittance = Decider[RemittanceState, RemittanceCommand](RemittanceState(), evolve, decide)
