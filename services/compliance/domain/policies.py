"""Policies: versioned documents the staff must acknowledge, one stream per policy.

Each version is published whole (title, the text or a digest of a document kept elsewhere, its
effective date, whom it binds and how long they have): a new version binds everyone again, so
an acknowledgement names the version it acknowledges, and only the current one may be
acknowledged. Those who owe an acknowledgement are reminded (an event naming them, at most
once a day each). Whom a version binds is roles and sites (empty: every role, every site) as
staffing names them; compliance learns who holds which role where from staffing's events
(`projections/policies.py`), never from this stream.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import ClassVar

from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent


class ComplianceEvent(DomainEvent):
    context: ClassVar[str] = "compliance"


# ----------------------------------------------------------------------------- events


class PolicyPublished(ComplianceEvent):
    """A version of a policy, in force from `effective_on`; the staff it binds (`roles` at
    `site_ids`; empty: all) acknowledge it within `acknowledge_within_days` of that day."""

    policy_id: str
    policy_version: int
    title: str
    body: str | None = None
    document_url: str | None = None
    document_sha256: str | None = None
    effective_on: date
    roles: tuple[str, ...] = ()
    site_ids: tuple[str, ...] = ()
    acknowledge_within_days: int


class PolicyAcknowledged(ComplianceEvent):
    """An employee acknowledged having read a version of a policy (on their own token)."""

    policy_id: str
    policy_version: int
    employee_id: str
    acknowledged_at: datetime


class PolicyAcknowledgementReminded(ComplianceEvent):
    """The employees named were reminded, on `reminded_on`, to acknowledge the policy's
    current version (a notifier reading the topic tells them)."""

    policy_id: str
    policy_version: int
    employee_ids: tuple[str, ...]
    reminded_on: date


class PolicyRetired(ComplianceEvent):
    """The policy no longer binds anyone from `retired_on`."""

    policy_id: str
    retired_on: date
    reason: str


# ----------------------------------------------------------------------------- commands


class PublishPolicy(Command):
    policy_id: str
    title: str
    body: str | None = None
    document_url: str | None = None
    document_sha256: str | None = None
    effective_on: date
    roles: tuple[str, ...] = ()
    site_ids: tuple[str, ...] = ()
    acknowledge_within_days: int
    new: bool  # True: the first version (409 if the policy exists); False: a next version


class AcknowledgePolicy(Command):
    policy_version: int
    employee_id: str
    acknowledged_at: datetime


class RemindStaff(Command):
    """Remind `employee_ids` (those the policy binds, as the caller found them) to acknowledge
    the current version: those who have, or were reminded of it that day, are left out."""

    employee_ids: tuple[str, ...]
    reminded_on: date


class RetirePolicy(Command):
    retired_on: date
    reason: str


# ----------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Policy:
    policy_id: str | None = None
    version: int = 0
    effective_on: date | None = None
    retired: bool = False
    acknowledged: frozenset[tuple[int, str]] = frozenset()  # (version, employee id)
    reminded: frozenset[tuple[int, str, date]] = frozenset()  # (version, employee id, day)

    @property
    def exists(self) -> bool:
        return self.version > 0


def evolve(state: Policy, event: DomainEvent) -> Policy:
    match event:
        case PolicyPublished():
            return replace(
                state,
                policy_id=event.policy_id,
                version=event.policy_version,
                effective_on=event.effective_on,
            )
        case PolicyAcknowledged():
            seen = (event.policy_version, event.employee_id)
            return replace(state, acknowledged=state.acknowledged | {seen})
        case PolicyAcknowledgementReminded():
            days = {(event.policy_version, e, event.reminded_on) for e in event.employee_ids}
            return replace(state, reminded=state.reminded | days)
        case PolicyRetired():
            return replace(state, retired=True)
    return state


PolicyCommand = PublishPolicy | AcknowledgePolicy | RemindStaff | RetirePolicy


def decide(state: Policy, command: PolicyCommand) -> list[DomainEvent]:
    match command:
        case PublishPolicy():
            return _publish(state, command)
        case AcknowledgePolicy():
            return _acknowledge(state, command)
        case RemindStaff():
            return _remind(state, command)
        case RetirePolicy():
            if not state.exists:
                raise NotFound("policy not found")
            if state.retired:
                raise Rejected("the policy is retired already")
            if state.effective_on is not None and command.retired_on < state.effective_on:
                raise Invalid("a policy is retired on or after its current version's effect")
            return [
                PolicyRetired(
                    policy_id=state.policy_id or "",
                    retired_on=command.retired_on,
                    reason=command.reason,
                )
            ]


def _publish(state: Policy, command: PublishPolicy) -> list[DomainEvent]:
    if command.new and state.exists:
        raise Rejected(f"policy {command.policy_id} exists: publish a new version of it")
    if not command.new and not state.exists:
        raise NotFound(f"policy {command.policy_id} not found")
    if state.retired:
        raise Rejected("the policy is retired: publish a new policy instead")
    if command.body is None and (command.document_url is None or command.document_sha256 is None):
        raise Invalid("a policy has a body, or a document's URL and SHA-256 digest")
    if state.effective_on is not None and command.effective_on < state.effective_on:
        raise Invalid(f"a new version takes effect on or after {state.effective_on.isoformat()}")
    return [
        PolicyPublished(
            policy_id=command.policy_id,
            policy_version=state.version + 1,
            title=command.title,
            body=command.body,
            document_url=command.document_url,
            document_sha256=command.document_sha256,
            effective_on=command.effective_on,
            roles=command.roles,
            site_ids=command.site_ids,
            acknowledge_within_days=command.acknowledge_within_days,
        )
    ]


def _acknowledge(state: Policy, command: AcknowledgePolicy) -> list[DomainEvent]:
    if not state.exists:
        raise NotFound("policy not found")
    if state.retired:
        raise Rejected("the policy is retired: there is nothing to acknowledge")
    if command.policy_version != state.version:
        raise Rejected(f"version {command.policy_version} is not the current one ({state.version})")
    if (command.policy_version, command.employee_id) in state.acknowledged:
        return []  # acknowledged already: once is the record
    return [
        PolicyAcknowledged(
            policy_id=state.policy_id or "",
            policy_version=command.policy_version,
            employee_id=command.employee_id,
            acknowledged_at=command.acknowledged_at,
        )
    ]


def _remind(state: Policy, command: RemindStaff) -> list[DomainEvent]:
    if not state.exists:
        raise NotFound("policy not found")
    if state.retired:
        raise Rejected("the policy is retired: there is nothing to acknowledge")
    version, day = state.version, command.reminded_on
    owing = sorted(
        {
            e
            for e in command.employee_ids
            if (version, e) not in state.acknowledged and (version, e, day) not in state.reminded
        }
    )
    if not owing:
        return []  # everyone acknowledged, or was reminded today already
    return [
        PolicyAcknowledgementReminded(
            policy_id=state.policy_id or "",
            policy_version=version,
            employee_ids=tuple(owing),
            reminded_on=day,
        )
    ]


policy: Decider[Policy, PolicyCommand] = Decider(initial=Policy(), evolve=evolve, decide=decide)

EVENTS: tuple[type[ComplianceEvent], ...] = (
    PolicyPublished,
    PolicyAcknowledged,
    PolicyAcknowledgementReminded,
    PolicyRetired,
)


def policy_stream(tenant: str, policy_id: str) -> str:
    return f"{tenant}:policy:{policy_id}"
