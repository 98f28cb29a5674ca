"""Alerts: what a monitor raises, and what the compliance officer does with it. Pure.

An alert is one stream, `{tenant}:alert:{alert_id}`, and its id is a function of the monitor,
the subject it watched (a credential, an assignment, a reader) and the period the finding is
about (an expiry date, a due date, an hour, a day). So the same finding made twice, by a timer
run again after a restart or by a second process, names the same stream: the first raise is
the append at "no stream", and every later one finds the alert raised and records nothing.

Life of an alert: raised (open), acknowledged (someone is on it), resolved with a note
(closed). A resolved alert stays resolved: the same finding in the same period is the same
alert, and a new period (a renewed licence's next expiry) is a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime

from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

Severity = Literal["info", "warning", "critical"]
Status = Literal["open", "acknowledged", "resolved"]


def alert_id(monitor: str, subject: str, period: str) -> str:
    """The alert's id: the monitor's name and a digest of what it found about whom and when
    (a FHIR-id-safe string: letters, digits, `-` and `.`)."""
    digest = hashlib.sha256(f"{monitor}\x1f{subject}\x1f{period}".encode()).hexdigest()
    return f"{monitor.replace('_', '-')}-{digest[:24]}"


def alert_stream(tenant: str, alert: str) -> str:
    return f"{tenant}:alert:{alert}"


class ComplianceEvent(DomainEvent):
    context: ClassVar[str] = "compliance"


class AlertRaised(ComplianceEvent):
    """A monitor found something: `monitor` watched `subject` over `period`. `site`: the site
    it is about, if one (who may read it, and a filter)."""

    alert_id: str
    monitor: str
    subject: str
    period: str
    site: str | None = None
    severity: Severity
    summary: str
    details: dict[str, str] = {}
    raised_at: AwareDatetime


class AlertAcknowledged(ComplianceEvent):
    alert_id: str
    acknowledged_by: str
    acknowledged_at: AwareDatetime
    note: str = ""


class AlertResolved(ComplianceEvent):
    alert_id: str
    resolved_by: str
    resolved_at: AwareDatetime
    note: str


@dataclass(frozen=True)
class Finding:
    """What a monitor found, before it is an alert: the raise decides whether it is new."""

    tenant: str
    monitor: str
    subject: str
    period: str
    severity: Severity
    summary: str
    site: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return alert_id(self.monitor, self.subject, self.period)


@dataclass(frozen=True)
class Alert:
    raised: bool = False
    status: Status = "open"
    site: str | None = None


class RaiseAlert(Command):
    alert_id: str
    monitor: str
    subject: str
    period: str
    site: str | None
    severity: Severity
    summary: str
    details: dict[str, str]
    raised_at: AwareDatetime


class AcknowledgeAlert(Command):
    alert_id: str
    by: str
    at: AwareDatetime
    note: str = ""
    within: tuple[str, ...] | None = None  # the caller's sites; None: every site


class ResolveAlert(Command):
    alert_id: str
    by: str
    at: AwareDatetime
    note: str
    within: tuple[str, ...] | None = None


def raise_command(finding: Finding, at: Any) -> RaiseAlert:
    return RaiseAlert(
        alert_id=finding.alert_id,
        monitor=finding.monitor,
        subject=finding.subject,
        period=finding.period,
        site=finding.site,
        severity=finding.severity,
        summary=finding.summary,
        details=dict(finding.details),
        raised_at=at,
    )


def _evolve(state: Alert, event: DomainEvent) -> Alert:
    if isinstance(event, AlertRaised):
        return Alert(raised=True, status="open", site=event.site)
    if isinstance(event, AlertAcknowledged):
        return Alert(raised=True, status="acknowledged", site=state.site)
    if isinstance(event, AlertResolved):
        return Alert(raised=True, status="resolved", site=state.site)
    return state


def _decide(
    state: Alert, command: RaiseAlert | AcknowledgeAlert | ResolveAlert
) -> Sequence[DomainEvent]:
    if isinstance(command, RaiseAlert):
        if state.raised:
            return []  # raised already, by this process or another: once is enough
        return [AlertRaised(**command.model_dump())]
    unseen = command.within is not None and state.site not in command.within
    if not state.raised or unseen:  # an alert of another site is not the caller's to see
        raise NotFound(f"no alert {command.alert_id}")
    if state.status == "resolved":
        raise Rejected(f"alert {command.alert_id} is resolved")
    if isinstance(command, AcknowledgeAlert):
        if state.status == "acknowledged":
            return []  # acknowledged already: asking again changes nothing
        return [
            AlertAcknowledged(
                alert_id=command.alert_id,
                acknowledged_by=command.by,
                acknowledged_at=command.at,
                note=command.note,
            )
        ]
    if not command.note.strip():
        raise Invalid("resolving an alert needs a note: what was found and done")
    return [
        AlertResolved(
            alert_id=command.alert_id,
            resolved_by=command.by,
            resolved_at=command.at,
            note=command.note,
        )
    ]


alert = Decider[Alert, RaiseAlert | AcknowledgeAlert | ResolveAlert](Alert(), _evolve, _decide)

EVENTS: tuple[type[DomainEvent], ...] = (AlertRaised, AlertAcknowledged, AlertResolved)
