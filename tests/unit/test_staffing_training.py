"""Training, given events, when a command, then events: the catalogue, assignments by hand and
by role (idempotent), completions with evidence, and the next round of a recurring course."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from services.staffing.domain.events import CourseDefined, TrainingAssigned, TrainingCompleted
from services.staffing.domain.training import (
    AssignRequiredTraining,
    AssignTraining,
    CompleteTraining,
    CourseToAssign,
    DefineCourse,
    TrainingCommand,
    add_months,
    catalogue,
    training_record,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

TODAY = date(2026, 11, 26)
HIPAA = CourseToAssign(
    assignment_id="a-1",
    course_id="hipaa",
    course_name="HIPAA privacy",
    due_on=date(2026, 12, 26),
    recurs_every_months=12,
)
FIRE = CourseToAssign(
    assignment_id="a-2", course_id="fire", course_name="Fire safety", due_on=date(2026, 12, 26)
)
ASSIGNED = TrainingAssigned(
    assignment_id="a-1",
    employee_id="emp-1",
    course_id="hipaa",
    course_name="HIPAA privacy",
    assigned_on=date(2026, 11, 1),
    due_on=date(2026, 12, 26),
    recurs_every_months=12,
    reason="hired",
)
FIRE_ASSIGNED = TrainingAssigned(
    assignment_id="a-2",
    employee_id="emp-1",
    course_id="fire",
    course_name="Fire safety",
    assigned_on=date(2026, 11, 1),
    due_on=date(2026, 12, 26),
    reason="hired",
)
COMPLETE = CompleteTraining(
    assignment_id="a-1",
    completed_on=date(2026, 11, 20),
    evidence="certificate HIPAA-2026-0042",
    recorded_by="emp-1",
    today=TODAY,
    next_assignment_id="a-9",
)


def when(given: Sequence[DomainEvent], command: TrainingCommand) -> Sequence[DomainEvent]:
    return training_record.decide(training_record.fold(given), command)


def test_a_course_is_defined_once_and_makes_sense() -> None:
    define = DefineCourse(
        course_id="hipaa",
        name="HIPAA privacy",
        required_for_roles=("nurse", "front_desk"),
        due_within_days=30,
        recurs_every_months=12,
    )
    defined = catalogue.decide(catalogue.initial, define)
    assert defined == [CourseDefined(**define.model_dump())]
    state = catalogue.fold(defined)
    assert [c.course_id for c in state.required_for("nurse")] == ["hipaa"]
    assert state.required_for("physician") == []
    with pytest.raises(Rejected):
        catalogue.decide(state, define)
    with pytest.raises(Invalid):
        catalogue.decide(catalogue.initial, define.model_copy(update={"due_within_days": 0}))
    twice = define.model_copy(update={"required_for_roles": ("nurse", "nurse")})
    with pytest.raises(Invalid):
        catalogue.decide(catalogue.initial, twice)


def test_a_course_is_assigned_by_hand_once_while_open() -> None:
    assign = AssignTraining(employee_id="emp-1", course=HIPAA, assigned_on=TODAY)
    [assigned] = when([], assign)
    assert isinstance(assigned, TrainingAssigned)
    assert (assigned.due_on, assigned.reason) == (date(2026, 12, 26), "assigned")
    again = AssignTraining(
        employee_id="emp-1",
        course=HIPAA.model_copy(update={"assignment_id": "a-5"}),
        assigned_on=TODAY,
    )
    with pytest.raises(Rejected, match="already assigned"):
        when([assigned], again)
    with pytest.raises(Invalid, match="due before"):
        when([], assign.model_copy(update={"assigned_on": date(2027, 1, 1)}))


def test_required_courses_are_assigned_once_however_often_asked() -> None:
    required = AssignRequiredTraining(
        employee_id="emp-1", courses=(HIPAA, FIRE), assigned_on=date(2026, 11, 1), reason="hired"
    )
    assigned = when([], required)
    assert assigned == [ASSIGNED, FIRE_ASSIGNED]
    assert when(assigned, required) == []  # redelivered: nothing new
    # A non-recurring course once completed is not assigned again on a change of job.
    done = TrainingCompleted(
        assignment_id="a-2",
        employee_id="emp-1",
        course_id="fire",
        completed_on=date(2026, 11, 10),
        evidence="x",
        recorded_by="hr-1",
    )
    changed = required.model_copy(update={"reason": "job_changed"})
    assert when([*assigned, done], changed) == []


def test_a_completion_records_its_evidence_and_assigns_the_next_round_of_a_recurring_course() -> (
    None
):
    events = when([ASSIGNED], COMPLETE)
    assert events == [
        TrainingCompleted(
            assignment_id="a-1",
            employee_id="emp-1",
            course_id="hipaa",
            completed_on=date(2026, 11, 20),
            evidence="certificate HIPAA-2026-0042",
            recorded_by="emp-1",
        ),
        TrainingAssigned(
            assignment_id="a-9",
            employee_id="emp-1",
            course_id="hipaa",
            course_name="HIPAA privacy",
            assigned_on=date(2026, 11, 20),
            due_on=date(2027, 11, 20),  # a year after completion
            recurs_every_months=12,
            reason="recurrence",
        ),
    ]


def test_a_course_that_does_not_recur_is_done_once_completed() -> None:
    complete = COMPLETE.model_copy(update={"assignment_id": "a-2"})
    [completed] = when([FIRE_ASSIGNED], complete)
    assert isinstance(completed, TrainingCompleted)


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({"completed_on": date(2026, 10, 31)}, Invalid, "before the training was assigned"),
        ({"completed_on": date(2026, 11, 27)}, Invalid, "in the future"),
        ({"evidence": "   "}, Invalid, "needs evidence"),
        ({"assignment_id": "a-404"}, NotFound, "not found"),
    ],
)
def test_a_completion_makes_sense(
    change: dict[str, object], error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        when([ASSIGNED], COMPLETE.model_copy(update=change))


def test_completing_twice_is_a_conflict() -> None:
    completed = when([ASSIGNED], COMPLETE)
    with pytest.raises(Rejected, match="was completed on 2026-11-20"):
        when([ASSIGNED, *completed], COMPLETE)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 20), 12, date(2027, 11, 20)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
    ],
)
def test_months_are_added_to_the_month_s_last_day_at_most(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected
