"""Feedback cases: opened once, a privacy complaint linked once to compliance's incident,
assigned to an owner with a due date, resolved once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.engagement.domain.cases import (
    AssignCase,
    CaseCommand,
    LinkIncident,
    OpenCase,
    ResolveCase,
    feedback_case,
)
from services.engagement.domain.events import (
    FeedbackCaseAssigned,
    FeedbackCaseIncidentLinked,
    FeedbackCaseOpened,
    FeedbackCaseResolved,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
OPEN = OpenCase(
    case_id="case-1",
    patient_id="pt-1",
    site_id="site-1",
    kind="complaint",
    source="front_desk",
    summary="Waited an hour",
    now=NOW,
    due_on=date(2026, 3, 10),
)
OPENED = FeedbackCaseOpened(**OPEN.model_dump(exclude={"now"}), opened_at=NOW)
ASSIGN = AssignCase(
    case_id="case-1", owner_id="emp-7", due_on=date(2026, 3, 9), assigned_by="emp-1", now=NOW
)
ASSIGNED = FeedbackCaseAssigned(
    case_id="case-1",
    owner_id="emp-7",
    due_on=date(2026, 3, 9),
    assigned_by="emp-1",
    assigned_at=NOW,
)
RESOLVE = ResolveCase(
    case_id="case-1", resolution="Apologised; new rooming rota", resolved_by="emp-7", now=NOW
)


def when(given: Sequence[DomainEvent], command: CaseCommand) -> Sequence[DomainEvent]:
    return feedback_case.decide(feedback_case.fold(given), command)


def test_a_case_is_opened_once() -> None:
    assert when([], OPEN) == [OPENED]
    assert when([OPENED], OPEN) == []  # the same opening redelivered
    with pytest.raises(Rejected):
        when([OPENED], OPEN.model_copy(update={"summary": "Something else"}))


def test_a_privacy_complaint_is_linked_once_to_compliances_incident() -> None:
    privacy = OPEN.model_copy(update={"kind": "privacy_complaint"})
    (opened,) = when([], privacy)
    link = LinkIncident(case_id="case-1", incident_id="inc-4", now=NOW)
    linked = FeedbackCaseIncidentLinked(case_id="case-1", incident_id="inc-4", linked_at=NOW)
    assert when([opened], link) == [linked]
    assert when([opened, linked], link) == []  # compliance's event redelivered
    assert feedback_case.fold([opened, linked]).incident_id == "inc-4"
    with pytest.raises(Rejected, match="linked to incident inc-4"):
        when([opened, linked], link.model_copy(update={"incident_id": "inc-5"}))
    with pytest.raises(Rejected, match="only a privacy complaint"):
        when([OPENED], link)
    with pytest.raises(NotFound):
        when([], link)


def test_a_case_says_what_it_is_about_and_is_not_due_in_the_past() -> None:
    with pytest.raises(Invalid):
        when([], OPEN.model_copy(update={"summary": "  "}))
    with pytest.raises(Invalid):
        when([], OPEN.model_copy(update={"due_on": date(2026, 3, 2)}))


def test_an_owner_resolves_it_once() -> None:
    with pytest.raises(Rejected, match="owner"):
        when([OPENED], RESOLVE)
    assert when([OPENED], ASSIGN) == [ASSIGNED]
    assert when([OPENED, ASSIGNED], ASSIGN) == []
    resolved = when([OPENED, ASSIGNED], RESOLVE)
    assert resolved == [
        FeedbackCaseResolved(
            case_id="case-1",
            patient_id="pt-1",
            resolution="Apologised; new rooming rota",
            resolved_by="emp-7",
            resolved_at=NOW,
        )
    ]
    with pytest.raises(Rejected, match="resolved"):
        when([OPENED, ASSIGNED, *resolved], RESOLVE)
    with pytest.raises(Rejected):
        when([OPENED, ASSIGNED, *resolved], ASSIGN)
    with pytest.raises(Invalid):
        when([OPENED, ASSIGNED], RESOLVE.model_copy(update={"resolution": ""}))


def test_a_case_never_opened_is_not_found() -> None:
    with pytest.raises(NotFound):
        when([], ASSIGN)


def test_summaries_and_resolutions_are_sealed_as_phi() -> None:
    assert FeedbackCaseOpened.phi_field_names() == ("summary",)
    assert FeedbackCaseResolved.phi_field_names() == ("resolution",)
