"""The incident decider and its deadline arithmetic: given these events, when this command, then
these events (or this refusal); and what an incident owes by when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.compliance.domain.incidents import (
    AssessRisk,
    BreachNotificationSent,
    CloseIncident,
    Deadline,
    IncidentClosed,
    IncidentReported,
    IncidentRiskAssessed,
    Kind,
    Recipient,
    RecordInvestigation,
    RecordNotification,
    ReportIncident,
    SafetyIncidentInvestigated,
    deadlines,
    incident,
    notification_due,
)
from shared.domain import DomainError, Invalid, NotFound, Rejected
from shared.events import DomainEvent

AT = datetime(2026, 11, 26, 9, tzinfo=UTC)
TODAY = date(2026, 11, 26)
FOUND = date(2026, 11, 2)


def reported(kind: Kind = "privacy", discovered_on: date = FOUND) -> IncidentReported:
    return IncidentReported(
        incident_id="i1",
        kind=kind,
        site_id="north",
        title="Lost laptop",
        description="A laptop left on a train.",
        occurred_on=date(2026, 11, 1),
        discovered_on=discovered_on,
        reported_at=AT,
    )


def assessed(breach: bool = True, affected: int = 12) -> IncidentRiskAssessed:
    return IncidentRiskAssessed(
        incident_id="i1",
        assessed_on=date(2026, 11, 10),
        breach=breach,
        risk="high" if breach else "low",
        patients_affected=affected,
        summary="Unencrypted disk.",
    )


def sent(recipient: Recipient) -> BreachNotificationSent:
    return BreachNotificationSent(
        incident_id="i1", recipient=recipient, sent_on=date(2026, 11, 20), recipients_count=12
    )


INVESTIGATED = SafetyIncidentInvestigated(
    incident_id="i1",
    investigated_on=date(2026, 11, 20),
    harm="mild",
    root_cause="Look-alike vials.",
    actions=("Separate the vials",),
)


def assess(**change: Any) -> AssessRisk:
    fields: dict[str, Any] = {
        "assessed_on": date(2026, 11, 10),
        "breach": True,
        "risk": "high",
        "patients_affected": 12,
        "summary": "Unencrypted disk.",
        "today": TODAY,
    }
    return AssessRisk(**(fields | change))


def notify(recipient: Recipient, sent_on: date = date(2026, 11, 20)) -> RecordNotification:
    return RecordNotification(
        recipient=recipient, sent_on=sent_on, recipients_count=12, today=TODAY
    )


def close(closed_on: date = TODAY) -> CloseIncident:
    return CloseIncident(closed_on=closed_on, resolution="Done.", today=TODAY)


def investigate(investigated_on: date = date(2026, 11, 20)) -> RecordInvestigation:
    return RecordInvestigation(
        investigated_on=investigated_on,
        harm="mild",
        root_cause="Look-alike vials.",
        actions=("Separate the vials",),
        today=TODAY,
    )


def then(given: Sequence[DomainEvent], command: Any) -> list[DomainEvent]:
    return list(incident.decide(incident.fold(given), command))


def owed(given: Sequence[DomainEvent]) -> list[tuple[str, date]]:
    return [(d.task, d.due_on) for d in deadlines(incident.fold(given))]


def test_an_incident_is_reported_once() -> None:
    report = ReportIncident(
        incident_id="i1",
        kind="privacy",
        site_id="north",
        title="Lost laptop",
        description="A laptop left on a train.",
        occurred_on=date(2026, 11, 1),
        discovered_on=FOUND,
        reported_at=AT,
    )
    assert then([], report) == [reported()]
    with pytest.raises(Rejected):
        then([reported()], report)
    with pytest.raises(Invalid):  # discovered after it was reported
        then([], report.model_copy(update={"discovered_on": date(2026, 11, 27)}))
    with pytest.raises(Invalid):  # occurred after it was discovered
        then([], report.model_copy(update={"occurred_on": date(2026, 11, 3)}))


def test_a_breach_runs_from_assessment_through_notifications_to_closure() -> None:
    given: list[DomainEvent] = [reported()]
    assert owed(given) == [("risk_assessment", date(2027, 1, 1))]  # 60 days from discovery
    assert then(given, assess()) == [assessed()]
    given.append(assessed())
    # Fewer than 500: individuals within 60 days, HHS in the yearly log (60 days after 31 Dec).
    assert owed(given) == [
        ("notify_individuals", date(2027, 1, 1)),
        ("notify_hhs", date(2027, 3, 1)),
    ]
    with pytest.raises(Rejected, match="owes: notify_individuals, notify_hhs"):
        then(given, close())
    with pytest.raises(Rejected, match="no notification of media"):
        then(given, notify("media"))
    assert then(given, notify("individuals")) == [sent("individuals")]
    given.append(sent("individuals"))
    with pytest.raises(Rejected, match="notified already"):
        then(given, notify("individuals"))
    given.append(sent("hhs"))
    assert owed(given) == []
    [closed] = then(given, close())
    assert closed == IncidentClosed(incident_id="i1", closed_on=TODAY, resolution="Done.")
    with pytest.raises(Rejected, match="closed"):
        then([*given, closed], notify("media"))


def test_a_large_breach_tells_the_media_and_hhs_within_60_days() -> None:
    given = [reported(), assessed(affected=501)]
    assert owed(given) == [
        ("notify_hhs", date(2027, 1, 1)),
        ("notify_individuals", date(2027, 1, 1)),
        ("notify_media", date(2027, 1, 1)),
    ]
    # 500 exactly: HHS at once, no media.
    assert [t for t, _ in owed([reported(), assessed(affected=500)])] == [
        "notify_hhs",
        "notify_individuals",
    ]


@pytest.mark.parametrize(
    ("recipient", "discovered_on", "affected", "due_on"),
    [
        ("individuals", date(2026, 11, 2), 1, date(2027, 1, 1)),
        ("hhs", date(2026, 11, 2), 499, date(2027, 3, 1)),
        ("hhs", date(2027, 3, 15), 10, date(2028, 2, 29)),  # 31 Dec 2027 + 60: a leap year
        ("hhs", date(2026, 11, 2), 500, date(2027, 1, 1)),
        ("media", date(2026, 12, 31), 501, date(2027, 3, 1)),
    ],
)
def test_notification_deadlines(
    recipient: Recipient, discovered_on: date, affected: int, due_on: date
) -> None:
    assert notification_due(recipient, discovered_on, affected) == due_on


def test_no_breach_owes_nothing_once_assessed_and_a_reassessment_replaces_it() -> None:
    given = [reported(), assessed(breach=False, affected=0)]
    assert owed(given) == []
    with pytest.raises(Rejected, match="found no breach"):
        then(given, notify("individuals"))
    assert then(given, close()) == [
        IncidentClosed(incident_id="i1", closed_on=TODAY, resolution="Done.")
    ]
    given.append(assessed())
    assert [t for t, _ in owed(given)] == ["notify_individuals", "notify_hhs"]


def test_a_safety_incident_is_investigated_within_45_days_then_closed() -> None:
    given: list[DomainEvent] = [reported("safety")]
    assert owed(given) == [("investigation", date(2026, 12, 17))]
    with pytest.raises(Rejected, match="owes: investigation"):
        then(given, close())
    assert then(given, investigate()) == [INVESTIGATED]
    given.append(INVESTIGATED)
    assert owed(given) == []
    with pytest.raises(Rejected, match="investigated already"):
        then(given, investigate())
    assert then(given, close()) != []


def test_closed_incidents_owe_nothing() -> None:
    closed = IncidentClosed(incident_id="i1", closed_on=TODAY, resolution="Done.")
    assert owed([reported("safety"), INVESTIGATED, closed]) == []
    assert deadlines(incident.initial) == ()


@pytest.mark.parametrize(
    ("given", "command", "refusal"),
    [
        ([], assess(), NotFound),
        ([], close(), NotFound),
        ([reported("safety")], assess(), Invalid),  # a safety incident is investigated
        ([reported("safety")], notify("individuals"), Invalid),
        ([reported()], investigate(), Invalid),  # a privacy incident is assessed
        ([reported()], notify("individuals"), Rejected),  # not assessed yet
        ([reported()], assess(assessed_on=date(2026, 11, 1)), Invalid),  # before discovery
        ([reported()], assess(assessed_on=date(2026, 11, 27)), Invalid),  # after today
        ([reported()], assess(patients_affected=0), Invalid),  # a breach of nobody
        ([reported(), assessed()], notify("individuals", date(2026, 12, 1)), Invalid),
        ([reported("safety")], investigate(date(2026, 11, 1)), Invalid),
        ([reported("safety"), INVESTIGATED], close(date(2026, 11, 27)), Invalid),
    ],
    ids=[
        "assess-unknown",
        "close-unknown",
        "assess-safety",
        "notify-safety",
        "investigate-privacy",
        "notify-unassessed",
        "assessed-before-discovery",
        "assessed-in-the-future",
        "breach-of-nobody",
        "sent-in-the-future",
        "investigated-before-discovery",
        "closed-in-the-future",
    ],
)
def test_refusals(given: list[DomainEvent], command: Any, refusal: type[DomainError]) -> None:
    with pytest.raises(refusal):
        then(given, command)


def test_deadlines_come_soonest_first() -> None:
    late = reported(discovered_on=date(2026, 12, 31))
    assert deadlines(incident.fold([late, assessed(affected=501)]))[0] == Deadline(
        "notify_hhs", date(2027, 3, 1)
    )
