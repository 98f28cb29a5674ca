"""The clearinghouse's rules, pure: the name a claim file is sent under, which tenant and claim
file an acknowledgement's name points back to, what an incoming file is (a 999 or a 277CA) and
what billing records of it, and the rejected-files list.

A claim file goes out as `medoffice-<tenant>-<ISA13>.837`: deterministic, so sending it again
after a crash puts the same bytes under the same name (the port makes that a no-op), and
unique per tenant (ISA13 is). The simulator, and clearinghouses that echo the name of the file
they answer, name acknowledgements after it (`medoffice-<tenant>-<ISA13>.999`, `.277`...).

The rejected-files list is a stream per tenant (`streams.clearinghouse_inbox`): one
`ClearinghouseFileRejected` per file (name and digest) billing could not take; a file
rejected again (read twice) records nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, cast

from pydantic import AwareDatetime

from services.billing.domain.events import ClearinghouseFileRejected
from services.billing.domain.x12.acks import (
    ClaimAcknowledgement,
    ClaimAcknowledgements,
    FileAcknowledgement,
    read_277ca,
    read_999,
)
from services.billing.domain.x12.segments import X12ValueError, element, tokenise
from shared.domain import Command, Decider
from shared.events import DomainEvent

PREFIX = "medoffice"
_NAMED = re.compile(rf"^{PREFIX}-(?P<tenant>.+)-(?P<isa13>\d{{9}})(?:\.[A-Za-z0-9]+)+$")


def file_name(tenant: str, interchange_control_number: int) -> str:
    """The name a claim file is sent under."""
    return f"{PREFIX}-{tenant}-{interchange_control_number:09d}.837"


@dataclass(frozen=True)
class NamedAfter:
    tenant: str
    interchange_control_number: int


def named_after(name: str) -> NamedAfter | None:
    """The tenant and ISA13 of the claim file whose name `name` echoes, if it does."""
    match = _NAMED.match(name)
    if match is None:
        return None
    return NamedAfter(match["tenant"], int(match["isa13"]))


# ----------------------------------------------------------------------------- incoming files

Acknowledgement = FileAcknowledgement | ClaimAcknowledgements
FileCode = Literal["A", "E", "R", "P"]
MAX_REASON = 300  # characters of a reader's complaint kept on the rejected-files list


class Unreadable(ValueError):
    """Not a file billing takes: the reason goes on the rejected-files list."""


def is_remittance(data: bytes) -> bool:
    """Whether the file's transaction sets are 835s (a remittance posting reads)."""
    try:
        _, segments = tokenise(data.decode("ascii"))
    except (UnicodeDecodeError, X12ValueError, ValueError, IndexError):
        return False
    kinds = {element(s, 1) for s in segments if s and s[0] == "ST"}
    return kinds == {"835"}


def read_acknowledgement(data: bytes) -> Acknowledgement:
    """A 999 (one functional group acknowledged) or a 277CA, by its transaction set."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not X12 text: a byte outside ASCII at {exc.start}") from exc
    try:
        _, segments = tokenise(text)
        kinds = {element(s, 1) for s in segments if s[0] == "ST"}
        if kinds == {"999"}:
            return read_999(text)
        if kinds == {"277"}:
            return read_277ca(text)
    except (X12ValueError, ValueError, IndexError) as exc:
        raise Unreadable(f"not a 999 or 277CA billing reads: {str(exc)[:MAX_REASON]}") from exc
    found = ", ".join(sorted(kinds)) or "none"
    raise Unreadable(f"not a 999, 277CA or 835 (transaction sets: {found[:MAX_REASON]})")


def file_code(ack: FileAcknowledgement) -> FileCode:
    """AK901, which the reader has checked is one of A, E, R, P."""
    return cast(FileCode, ack.code)


def file_errors(ack: FileAcknowledgement) -> tuple[str, ...]:
    """A 999's errors in words: group and set codes, segments and elements in error by
    position. Never an element's bad value (IK404), which may be a patient's data."""
    errors = [f"group error {code}" for code in ack.errors]
    for tx in ack.transactions:
        where = f"set {tx.set_control_number}"
        errors.extend(f"{where}: error {code}" for code in tx.set_errors)
        for seg in tx.errors:
            loop = f" in loop {seg.loop_id}" if seg.loop_id else ""
            errors.append(f"{where}: {seg.segment_id} at {seg.position}{loop}: error {seg.code}")
            errors.extend(
                f"{where}: {seg.segment_id} at {seg.position}, element {bad.position}: "
                f"error {bad.code}"
                for bad in seg.elements
            )
    return tuple(errors)


def claim_reasons(ack: ClaimAcknowledgement) -> tuple[str, ...]:
    """A 277CA's statuses for one claim, as the rejected-claims work queue shows them:
    `A7:21:85 Missing or invalid information` (category:status:entity, then its text)."""
    reasons = []
    for r in ack.reasons:
        code = ":".join(p for p in (r.category, r.code, r.entity) if p)
        reasons.append(f"{code} {r.text}".strip())
    return tuple(reasons) or ("rejected by the payer, no status given",)


# ----------------------------------------------------------------------------- rejected files

_NONE: Mapping[tuple[str, str], ClearinghouseFileRejected] = MappingProxyType({})


@dataclass(frozen=True)
class Inbox:
    # (file name, digest) -> its rejection
    rejected: Mapping[tuple[str, str], ClearinghouseFileRejected] = field(
        default_factory=lambda: _NONE
    )


class RejectFile(Command):
    file_name: str
    digest: str
    reason: str
    rejected_at: AwareDatetime


def evolve(state: Inbox, event: DomainEvent) -> Inbox:
    if isinstance(event, ClearinghouseFileRejected):
        key = (event.file_name, event.digest)
        return Inbox(MappingProxyType({**state.rejected, key: event}))
    return state


def decide(state: Inbox, command: RejectFile) -> Sequence[DomainEvent]:
    if (command.file_name, command.digest) in state.rejected:
        return []  # the same file read twice
    return [ClearinghouseFileRejected(**command.model_dump())]


inbox = Decider[Inbox, RejectFile](Inbox(), evolve, decide)
