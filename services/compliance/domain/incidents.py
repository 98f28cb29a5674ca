"""Incidents: privacy and security incidents (a possible breach of patients' data) and safety
incidents (harm, or a near miss, in care), one stream per incident, each with its lifecycle and
the dates by which its next steps are due.

Privacy and security: reported (with the day it was discovered) -> risk assessed (a breach or
not, how many patients, the risk) -> for a breach, the notifications the HIPAA breach
notification rule requires, each sent once -> closed. The deadlines count from discovery
(45 CFR 164.404-408): individuals within 60 days; the media too when more than 500 are
affected (the rule counts residents of one state: the incident does not know states, so the
count of all stands for it); HHS within 60 days when 500 or more are affected, else within 60
days of the end of the calendar year of discovery (the yearly log). The risk assessment is due
by the first of them: it decides whether any notification is owed. Safety: reported ->
investigated (harm, root cause, actions) -> closed; the investigation (a root-cause analysis)
is due 45 days after discovery. A step out of order is refused; no step follows closure.

`deadlines` is the arithmetic, pure: the read model keeps its result for the officer's
due-soon and overdue list, and a monitor can read the same list.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from services.compliance.domain.policies import ComplianceEvent
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

Kind = Literal["privacy", "security", "safety"]
Risk = Literal["low", "moderate", "high"]
Recipient = Literal["individuals", "media", "hhs"]
Harm = Literal["none", "mild", "moderate", "severe", "death"]
Task = Literal[
    "risk_assessment", "notify_individuals", "notify_media", "notify_hhs", "investigation"
]

NOTIFY_WITHIN = timedelta(days=60)
INVESTIGATE_WITHIN = timedelta(days=45)
MEDIA_OVER = 500  # more than this many affected: the media are told
HHS_AT = 500  # this many or more: HHS is told at once, not in the yearly log
RECIPIENTS: tuple[Recipient, ...] = ("individuals", "media", "hhs")

# ----------------------------------------------------------------------------- events


class IncidentReported(ComplianceEvent):
    """An incident at a site, discovered on `discovered_on` (the deadlines count from it).
    `description` names no patient: those affected are counted when it is assessed.
    `case_id` names engagement's feedback case (a privacy complaint) it was opened for."""

    incident_id: str
    kind: Kind
    site_id: str
    title: str
    description: str
    occurred_on: date | None = None
    discovered_on: date
    reported_at: datetime
    case_id: str | None = None


class IncidentRiskAssessed(ComplianceEvent):
    """A privacy or security incident's risk assessment: whether it is a breach of unsecured
    protected health information, the risk, and how many patients it affects. A later
    assessment replaces an earlier one."""

    incident_id: str
    assessed_on: date
    breach: bool
    risk: Risk
    patients_affected: int
    summary: str


class BreachNotificationSent(ComplianceEvent):
    """A breach's notification of `recipient` (the individuals, the media or HHS), sent on
    `sent_on` to `recipients_count` people or bodies."""

    incident_id: str
    recipient: Recipient
    sent_on: date
    recipients_count: int


class SafetyIncidentInvestigated(ComplianceEvent):
    """A safety incident's investigation: the harm done, the root cause, the actions taken."""

    incident_id: str
    investigated_on: date
    harm: Harm
    root_cause: str
    actions: tuple[str, ...]


class IncidentClosed(ComplianceEvent):
    incident_id: str
    closed_on: date
    resolution: str


# ----------------------------------------------------------------------------- commands


class ReportIncident(Command):
    incident_id: str
    kind: Kind
    site_id: str
    title: str
    description: str
    occurred_on: date | None = None
    discovered_on: date
    reported_at: datetime
    case_id: str | None = None


class AssessRisk(Command):
    assessed_on: date
    breach: bool
    risk: Risk
    patients_affected: int
    summary: str
    today: date


class RecordNotification(Command):
    recipient: Recipient
    sent_on: date
    recipients_count: int
    today: date


class RecordInvestigation(Command):
    investigated_on: date
    harm: Harm
    root_cause: str
    actions: tuple[str, ...]
    today: date


class CloseIncident(Command):
    closed_on: date
    resolution: str
    today: date


IncidentCommand = (
    ReportIncident | AssessRisk | RecordNotification | RecordInvestigation | CloseIncident
)


# ----------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Assessment:
    breach: bool
    patients_affected: int


@dataclass(frozen=True)
class Incident:
    incident_id: str | None = None
    kind: Kind | None = None
    discovered_on: date | None = None
    assessment: Assessment | None = None
    notified: frozenset[Recipient] = frozenset()
    investigated: bool = False
    closed: bool = False
    case_id: str | None = None  # engagement's feedback case it was opened for

    @property
    def exists(self) -> bool:
        return self.incident_id is not None


@dataclass(frozen=True)
class Deadline:
    task: Task
    due_on: date


def required_notifications(assessment: Assessment | None) -> tuple[Recipient, ...]:
    """Whom a breach must be told of (nobody until assessed as a breach)."""
    if assessment is None or not assessment.breach:
        return ()
    if assessment.patients_affected > MEDIA_OVER:
        return ("individuals", "media", "hhs")
    return ("individuals", "hhs")


def notification_due(recipient: Recipient, discovered_on: date, patients_affected: int) -> date:
    """The last day to notify `recipient` of a breach discovered on `discovered_on`."""
    if recipient == "hhs" and patients_affected < HHS_AT:
        return date(discovered_on.year, 12, 31) + NOTIFY_WITHIN  # the yearly log
    return discovered_on + NOTIFY_WITHIN


def deadlines(incident: Incident) -> tuple[Deadline, ...]:
    """What the incident still owes, and by when, soonest first (nothing once closed)."""
    if not incident.exists or incident.closed or incident.discovered_on is None:
        return ()
    discovered = incident.discovered_on
    if incident.kind == "safety":
        if incident.investigated:
            return ()
        return (Deadline("investigation", discovered + INVESTIGATE_WITHIN),)
    if incident.assessment is None:
        return (Deadline("risk_assessment", discovered + NOTIFY_WITHIN),)
    affected = incident.assessment.patients_affected
    owed = [
        Deadline(_NOTIFY[r], notification_due(r, discovered, affected))
        for r in required_notifications(incident.assessment)
        if r not in incident.notified
    ]
    return tuple(sorted(owed, key=lambda d: (d.due_on, d.task)))


_NOTIFY: dict[Recipient, Task] = {
    "individuals": "notify_individuals",
    "media": "notify_media",
    "hhs": "notify_hhs",
}


def evolve(state: Incident, event: DomainEvent) -> Incident:
    match event:
        case IncidentReported():
            return Incident(
                incident_id=event.incident_id,
                kind=event.kind,
                discovered_on=event.discovered_on,
                case_id=event.case_id,
            )
        case IncidentRiskAssessed():
            assessment = Assessment(event.breach, event.patients_affected)
            return replace(state, assessment=assessment)
        case BreachNotificationSent():
            return replace(state, notified=state.notified | {event.recipient})
        case SafetyIncidentInvestigated():
            return replace(state, investigated=True)
        case IncidentClosed():
            return replace(state, closed=True)
    return state


def decide(state: Incident, command: IncidentCommand) -> list[DomainEvent]:
    if isinstance(command, ReportIncident):
        return _report(state, command)
    if not state.exists:
        raise NotFound("incident not found")
    if state.closed:
        raise Rejected("the incident is closed")
    incident_id = state.incident_id or ""
    match command:
        case AssessRisk():
            _privacy_or_security(state, "a risk assessment")
            _on_a_day(state, command.assessed_on, command.today, "assessed")
            if command.breach and command.patients_affected < 1:
                raise Invalid("a breach affects at least one patient")
            return [
                IncidentRiskAssessed(
                    incident_id=incident_id,
                    assessed_on=command.assessed_on,
                    breach=command.breach,
                    risk=command.risk,
                    patients_affected=command.patients_affected,
                    summary=command.summary,
                )
            ]
        case RecordNotification():
            _privacy_or_security(state, "a breach notification")
            if command.recipient not in required_notifications(state.assessment):
                raise Rejected(f"no notification of {command.recipient} is owed: {_why(state)}")
            if command.recipient in state.notified:
                raise Rejected(f"{command.recipient} were notified already")
            _on_a_day(state, command.sent_on, command.today, "sent")
            return [
                BreachNotificationSent(
                    incident_id=incident_id,
                    recipient=command.recipient,
                    sent_on=command.sent_on,
                    recipients_count=command.recipients_count,
                )
            ]
        case RecordInvestigation():
            if state.kind != "safety":
                raise Invalid("a privacy or security incident is risk assessed, not investigated")
            if state.investigated:
                raise Rejected("the incident is investigated already")
            _on_a_day(state, command.investigated_on, command.today, "investigated")
            return [
                SafetyIncidentInvestigated(
                    incident_id=incident_id,
                    investigated_on=command.investigated_on,
                    harm=command.harm,
                    root_cause=command.root_cause,
                    actions=command.actions,
                )
            ]
        case CloseIncident():
            _on_a_day(state, command.closed_on, command.today, "closed")
            owed = deadlines(state)
            if owed:
                tasks = ", ".join(d.task for d in owed)
                raise Rejected(f"the incident still owes: {tasks}")
            return [
                IncidentClosed(
                    incident_id=incident_id,
                    closed_on=command.closed_on,
                    resolution=command.resolution,
                )
            ]


def _report(state: Incident, command: ReportIncident) -> list[DomainEvent]:
    if state.exists and command.case_id is not None and state.case_id == command.case_id:
        return []  # the case's incident, opened already (its opening redelivered)
    if state.exists:
        raise Rejected(f"incident {command.incident_id} exists")
    reported_on = command.reported_at.date()
    if command.discovered_on > reported_on:
        raise Invalid("an incident is discovered on or before the day it is reported")
    if command.occurred_on is not None and command.occurred_on > command.discovered_on:
        raise Invalid("an incident occurs on or before the day it is discovered")
    return [
        IncidentReported(
            incident_id=command.incident_id,
            kind=command.kind,
            site_id=command.site_id,
            title=command.title,
            description=command.description,
            occurred_on=command.occurred_on,
            discovered_on=command.discovered_on,
            reported_at=command.reported_at,
            case_id=command.case_id,
        )
    ]


def _privacy_or_security(state: Incident, step: str) -> None:
    if state.kind == "safety":
        raise Invalid(f"a safety incident has no {step}: it is investigated")


def _on_a_day(state: Incident, day: date, today: date, done: str) -> None:
    """A step is dated between the incident's discovery and today."""
    if state.discovered_on is not None and day < state.discovered_on:
        raise Invalid(f"an incident is {done} on or after its discovery")
    if day > today:
        raise Invalid(f"an incident is {done} on or before today ({today.isoformat()})")


def _why(state: Incident) -> str:
    if state.assessment is None:
        return "the incident is not risk assessed yet"
    if not state.assessment.breach:
        return "the assessment found no breach"
    return "the rule does not require it for this many patients"


incident: Decider[Incident, IncidentCommand] = Decider(
    initial=Incident(), evolve=evolve, decide=decide
)

EVENTS: tuple[type[ComplianceEvent], ...] = (
    IncidentReported,
    IncidentRiskAssessed,
    BreachNotificationSent,
    SafetyIncidentInvestigated,
    IncidentClosed,
)


def incident_stream(tenant: str, incident_id: str) -> str:
    return f"{tenant}:incident:{incident_id}"
