"""One credential's life: recorded, renewed, verified at the primary source, revoked, and the
daily sweep's expiry reminders.

Each credential is its own stream, so "a reminder fires once per threshold and expiry date" is
decided on one state with optimistic concurrency: two sweeps deciding at once append once (the
loser reloads, sees the reminder and records nothing), and a sweep after a restart folds the
reminders from the store. A renewal moves the last valid day, so reminders start again for it;
a revocation stops them.

The employee a credential belongs to must exist: the use cases fold the employee stream with
`domain/employment.py` (hired, job changed, terminated) and pass what they found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from pydantic import AwareDatetime

from services.staffing.domain.employment import Employment
from services.staffing.domain.events import (
    CredentialExpiryReminded,
    CredentialKind,
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

# Reminders before the last valid day (days left), and 0: expired (the day after it).
THRESHOLDS: tuple[int, ...] = (90, 60, 30, 0)
# Kinds issued by a state, which must name it.
STATE_KINDS: tuple[str, ...] = ("state_licence", "dea_registration")
_STATE = re.compile(r"^[A-Z]{2}$")


def existing(state: Employment, employee_id: str) -> Employment:
    if not state.exists:
        raise NotFound(f"employee {employee_id} not found")
    return state


# -------------------------------------------------------------------------------- commands


class RecordCredential(Command):
    credential_id: str
    employee_id: str
    kind: CredentialKind
    issuer: str
    number: str
    state: str | None = None
    issued_on: date
    expires_on: date | None = None


class RenewCredential(Command):
    expires_on: date


class VerifyCredential(Command):
    source: str
    verified_by: str
    verified_at: AwareDatetime
    result: Literal["verified", "failed"]
    note: str = ""


class RevokeCredential(Command):
    effective_on: date
    reason: str


class RemindExpiry(Command):
    """The daily sweep's question for one credential: is a reminder due `today`?"""

    today: date


CredentialCommand = (
    RecordCredential | RenewCredential | VerifyCredential | RevokeCredential | RemindExpiry
)

# ----------------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Credential:
    recorded: CredentialRecorded | None = None
    expires_on: date | None = None
    revoked: CredentialRevoked | None = None
    verification: CredentialVerified | None = None  # the latest
    # (expires_on, threshold_days) of every reminder recorded.
    reminded: frozenset[tuple[date, int]] = field(default_factory=frozenset)

    @property
    def invalid_from(self) -> date | None:
        """The first day it is not valid for anything but expiry: revoked from its effective
        day, or failed at its latest verification from that verification's day."""
        days = []
        if self.revoked is not None:
            days.append(self.revoked.effective_on)
        if self.verification is not None and self.verification.result == "failed":
            days.append(self.verification.verified_at.date())
        return min(days) if days else None

    def due_threshold(self, today: date) -> int | None:
        """The tightest reminder threshold due today, or None: T days before the last valid
        day for 90, 60 and 30; the day after it for 0 (expired)."""
        if self.expires_on is None or self.revoked is not None:
            return None
        days_left = (self.expires_on - today).days
        due = [t for t in THRESHOLDS if (days_left < 0 if t == 0 else days_left <= t)]
        return min(due) if due else None


def next_reminder_on(expires_on: date | None, reminded: frozenset[tuple[date, int]]) -> date | None:
    """The day the next reminder for this expiry date falls due: that of the loosest threshold
    tighter than every one already recorded for it (None: all recorded, or no expiry). The
    sweep looks only at credentials whose day has come."""
    if expires_on is None:
        return None
    fired = [t for (day, t) in reminded if day == expires_on]
    tighter = [t for t in THRESHOLDS if not fired or t < min(fired)]
    if not tighter:
        return None
    threshold = max(tighter)
    return expires_on + timedelta(days=1) if threshold == 0 else expires_on - timedelta(threshold)


def evolve(state: Credential, event: DomainEvent) -> Credential:
    match event:
        case CredentialRecorded():
            return Credential(recorded=event, expires_on=event.expires_on)
        case CredentialRenewed():
            return replace(state, expires_on=event.expires_on)
        case CredentialVerified():
            return replace(state, verification=event)
        case CredentialRevoked():
            return replace(state, revoked=event)
        case CredentialExpiryReminded():
            return replace(
                state, reminded=state.reminded | {(event.expires_on, event.threshold_days)}
            )
    return state


def check_record(command: RecordCredential) -> None:
    """What a credential must satisfy to be recorded at all (422 otherwise)."""
    if command.expires_on is not None and command.expires_on < command.issued_on:
        raise Invalid(f"expires_on {command.expires_on} is before issued_on {command.issued_on}")
    if command.kind in STATE_KINDS:
        if command.state is None:
            raise Invalid(f"a {command.kind} names the state that issued it")
        if not _STATE.match(command.state):
            raise Invalid(f"state {command.state!r} is not a two-letter state code")
    elif command.state is not None and not _STATE.match(command.state):
        raise Invalid(f"state {command.state!r} is not a two-letter state code")
    if not command.issuer.strip() or not command.number.strip():
        raise Invalid("a credential names its issuer and number")


def decide(state: Credential, command: CredentialCommand) -> list[DomainEvent]:
    if isinstance(command, RecordCredential):
        check_record(command)
        if state.recorded is not None:
            if state.recorded.model_dump() == command.model_dump():
                return []  # the same record again: a retry
            raise Rejected(f"credential {command.credential_id} is recorded already")
        return [CredentialRecorded(**command.model_dump())]
    recorded = state.recorded
    if recorded is None:
        raise NotFound("credential not found")
    ids = {"credential_id": recorded.credential_id, "employee_id": recorded.employee_id}
    match command:
        case RenewCredential():
            if state.revoked is not None:
                raise Rejected(f"credential {recorded.credential_id} is revoked")
            if state.expires_on is None:
                raise Rejected(f"credential {recorded.credential_id} does not expire")
            if command.expires_on <= state.expires_on:
                raise Invalid(
                    f"a renewal's expires_on ({command.expires_on}) comes after the current "
                    f"one ({state.expires_on})"
                )
            return [CredentialRenewed(**ids, expires_on=command.expires_on)]
        case VerifyCredential():
            if state.revoked is not None:
                raise Rejected(f"credential {recorded.credential_id} is revoked")
            return [CredentialVerified(**ids, **command.model_dump())]
        case RevokeCredential():
            if state.revoked is not None:
                raise Rejected(f"credential {recorded.credential_id} is revoked already")
            if command.effective_on < recorded.issued_on:
                raise Invalid(
                    f"effective_on {command.effective_on} is before issued_on {recorded.issued_on}"
                )
            return [CredentialRevoked(**ids, **command.model_dump())]
        case RemindExpiry():
            threshold = state.due_threshold(command.today)
            if threshold is None or state.expires_on is None:
                return []
            fired = [t for (day, t) in state.reminded if day == state.expires_on]
            if fired and min(fired) <= threshold:
                return []  # this threshold (or a tighter one) was reminded of already
            return [
                CredentialExpiryReminded(
                    **ids,
                    kind=recorded.kind,
                    expires_on=state.expires_on,
                    threshold_days=threshold,
                    reminded_on=command.today,
                )
            ]
    raise TypeError(f"not a credential command: {command!r}")


credential = Decider(initial=Credential(), evolve=evolve, decide=decide)
