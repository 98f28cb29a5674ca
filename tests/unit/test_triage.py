"""Given these events, when this command, then these events: a site's same-day triage queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from services.scheduling.domain.events import (
    PatientRetriaged,
    PatientTriaged,
    TriagedPatientLeft,
    TriagedPatientSeen,
)
from services.scheduling.domain.triage import (
    MarkLeft,
    MarkSeen,
    Retriage,
    TriageCommand,
    TriagePatient,
    triage_day,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent


def at(minute: int) -> datetime:
    return datetime(2026, 12, 1, 14, minute, tzinfo=UTC)


def triage(triage_id: str, urgency: int, minute: int, patient_id: str = "") -> TriagePatient:
    return TriagePatient(
        triage_id=triage_id,
        patient_id=patient_id or f"pat-{triage_id}",
        site_id="north",
        urgency=urgency,
        chief_complaint="",
        arrived_at=at(minute),
    )


def triaged(triage_id: str, urgency: int, minute: int, patient_id: str = "") -> PatientTriaged:
    return PatientTriaged(**triage(triage_id, urgency, minute, patient_id).model_dump())


def seen(triage_id: str, minute: int = 30) -> TriagedPatientSeen:
    return TriagedPatientSeen(
        triage_id=triage_id, patient_id=f"pat-{triage_id}", seen_at=at(minute)
    )


def left(triage_id: str, minute: int = 30) -> TriagedPatientLeft:
    return TriagedPatientLeft(
        triage_id=triage_id, patient_id=f"pat-{triage_id}", left_at=at(minute)
    )


def when(given: Sequence[DomainEvent], command: TriageCommand) -> list[DomainEvent]:
    return list(triage_day.decide(triage_day.fold(given), command))


def waiting(given: Sequence[DomainEvent]) -> list[str]:
    return [entry.triage_id for entry in triage_day.fold(given).waiting()]


def test_a_patient_joins_an_empty_queue() -> None:
    assert when([], triage("t1", 3, 0)) == [triaged("t1", 3, 0)]


def test_the_queue_is_served_by_urgency_then_arrival() -> None:
    given = [triaged("t1", 3, 0), triaged("t2", 1, 5), triaged("t3", 3, 2), triaged("t4", 5, 1)]
    assert waiting(given) == ["t2", "t1", "t3", "t4"]


def test_a_patient_seen_or_gone_leaves_the_queue() -> None:
    given = [triaged("t1", 2, 0), triaged("t2", 3, 1), triaged("t3", 4, 2), seen("t1"), left("t3")]
    assert waiting(given) == ["t2"]


def test_retriage_moves_a_patient_to_their_new_place() -> None:
    given: list[DomainEvent] = [triaged("t1", 2, 0), triaged("t2", 4, 1)]
    retriage = Retriage(triage_id="t2", urgency=1, retriaged_at=at(10))
    then = when(given, retriage)
    assert then == [
        PatientRetriaged(triage_id="t2", patient_id="pat-t2", urgency=1, retriaged_at=at(10))
    ]
    assert waiting([*given, *then]) == ["t2", "t1"]


def test_retriage_to_the_same_urgency_changes_nothing() -> None:
    assert (
        when([triaged("t1", 2, 0)], Retriage(triage_id="t1", urgency=2, retriaged_at=at(9))) == []
    )


@pytest.mark.parametrize("urgency", [0, 6, -1])
def test_urgency_runs_from_one_to_five(urgency: int) -> None:
    with pytest.raises(Invalid, match="urgency runs from 1"):
        when([], triage("t1", urgency, 0))
    with pytest.raises(Invalid, match="urgency runs from 1"):
        when([triaged("t1", 3, 0)], Retriage(triage_id="t1", urgency=urgency, retriaged_at=at(1)))


def test_a_waiting_patient_is_not_queued_twice() -> None:
    with pytest.raises(Rejected, match="pat-a is already waiting \\(triage t1\\)"):
        when([triaged("t1", 3, 0, "pat-a")], triage("t2", 2, 5, "pat-a"))


def test_a_patient_seen_earlier_may_come_back_the_same_day() -> None:
    given = [triaged("t1", 3, 0, "pat-t1"), seen("t1")]
    assert when(given, triage("t2", 2, 40, "pat-t1")) == [triaged("t2", 2, 40, "pat-t1")]


def test_a_triage_id_is_used_once() -> None:
    with pytest.raises(Rejected, match="triage t1 already exists"):
        when([triaged("t1", 3, 0), seen("t1")], triage("t1", 3, 50, "pat-other"))


@pytest.mark.parametrize(
    ("command", "event"),
    [
        (MarkSeen(triage_id="t1", seen_at=at(30)), seen("t1")),
        (MarkLeft(triage_id="t1", left_at=at(30)), left("t1")),
    ],
)
def test_seen_or_left_closes_a_waiting_entry(command: TriageCommand, event: DomainEvent) -> None:
    assert when([triaged("t1", 3, 0)], command) == [event]


@pytest.mark.parametrize("closed", [seen("t1"), left("t1")])
@pytest.mark.parametrize(
    "command",
    [
        MarkSeen(triage_id="t1", seen_at=at(40)),
        MarkLeft(triage_id="t1", left_at=at(40)),
        Retriage(triage_id="t1", urgency=1, retriaged_at=at(40)),
    ],
)
def test_a_closed_entry_changes_no_more(closed: DomainEvent, command: TriageCommand) -> None:
    with pytest.raises(Rejected, match="triage t1 is closed"):
        when([triaged("t1", 3, 0), closed], command)


@pytest.mark.parametrize(
    "command",
    [
        MarkSeen(triage_id="nope", seen_at=at(1)),
        MarkLeft(triage_id="nope", left_at=at(1)),
        Retriage(triage_id="nope", urgency=1, retriaged_at=at(1)),
    ],
)
def test_an_unknown_entry_is_not_found(command: TriageCommand) -> None:
    with pytest.raises(NotFound, match="triage nope not found"):
        when([triaged("t1", 3, 0)], command)
