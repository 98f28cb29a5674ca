"""Training: the tenant's course catalogue, and each employee's training record.

A course is required for some roles: an employee hired into one, or changing into one, is
assigned it, due `due_within_days` after the hire or change. Assigning is idempotent: a course
the employee already has open (or completed, and still valid) is not assigned again. A recurring
course (HIPAA privacy yearly) is assigned again on its completion, due `recurs_every_months`
after the day it was completed: once that passes uncompleted, the employee is overdue again.

A completion carries evidence, falls between the assignment's date and today, and happens once.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.staffing.domain.events import (
    AssignedBecause,
    CourseDefined,
    Role,
    TrainingAssigned,
    TrainingCompleted,
)
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has none (31 Jan + 1 = 28
    or 29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ----------------------------------------------------------------------------- the catalogue


class DefineCourse(Command):
    course_id: str
    name: str
    required_for_roles: tuple[Role, ...] = ()
    due_within_days: int
    recurs_every_months: int | None = None


@dataclass(frozen=True)
class Course:
    course_id: str
    name: str
    required_for_roles: tuple[str, ...]
    due_within_days: int
    recurs_every_months: int | None

    def required_for(self, role: str) -> bool:
        return role in self.required_for_roles


@dataclass(frozen=True)
class Catalogue:
    courses: Mapping[str, Course] = field(default_factory=dict)

    def required_for(self, role: str) -> list[Course]:
        return sorted(
            (c for c in self.courses.values() if c.required_for(role)), key=lambda c: c.course_id
        )


def evolve_catalogue(state: Catalogue, event: DomainEvent) -> Catalogue:
    if isinstance(event, CourseDefined):
        course = Course(
            event.course_id,
            event.name,
            tuple(event.required_for_roles),
            event.due_within_days,
            event.recurs_every_months,
        )
        return Catalogue({**state.courses, event.course_id: course})
    return state


def decide_catalogue(state: Catalogue, command: DefineCourse) -> Sequence[DomainEvent]:
    if command.due_within_days < 1:
        raise Invalid("a course is due at least one day after it is assigned")
    if command.recurs_every_months is not None and command.recurs_every_months < 1:
        raise Invalid("a recurring course recurs every month at the most often")
    if len(set(command.required_for_roles)) != len(command.required_for_roles):
        raise Invalid("a role is named twice in required_for_roles")
    if command.course_id in state.courses:
        raise Rejected(f"course {command.course_id} is already defined")
    return [CourseDefined(**command.model_dump())]


catalogue = Decider[Catalogue, DefineCourse](Catalogue(), evolve_catalogue, decide_catalogue)


# ----------------------------------------------------------------------------- a training record


class CourseToAssign(Command):
    """A course as the catalogue has it, with the new assignment's id and due date."""

    assignment_id: str
    course_id: str
    course_name: str
    due_on: date
    recurs_every_months: int | None = None


class AssignTraining(Command):
    """Assign one course by hand: refused if the employee already has it open."""

    employee_id: str
    course: CourseToAssign
    assigned_on: date


class AssignRequiredTraining(Command):
    """Assign the courses the employee's role requires, each unless already open or still valid
    (so that redelivery of a hire or change of job assigns nothing twice)."""

    employee_id: str
    courses: tuple[CourseToAssign, ...]
    assigned_on: date
    reason: Literal["hired", "job_changed", "course_defined"]


class CompleteTraining(Command):
    assignment_id: str
    completed_on: date
    evidence: str
    recorded_by: str
    today: date
    next_assignment_id: str  # the next round's, if the course recurs


TrainingCommand = AssignTraining | AssignRequiredTraining | CompleteTraining


@dataclass(frozen=True)
class Assignment:
    assignment_id: str
    course_id: str
    course_name: str
    assigned_on: date
    due_on: date
    recurs_every_months: int | None
    completed_on: date | None = None

    @property
    def open(self) -> bool:
        return self.completed_on is None

    def valid_on(self, day: date) -> bool:
        """Completed, and not aged out on `day` (a course that does not recur never does)."""
        if self.completed_on is None:
            return False
        if self.recurs_every_months is None:
            return True
        return day < add_months(self.completed_on, self.recurs_every_months)


@dataclass(frozen=True)
class TrainingRecord:
    employee_id: str = ""
    assignments: Mapping[str, Assignment] = field(default_factory=dict)

    def of_course(self, course_id: str) -> list[Assignment]:
        return [a for a in self.assignments.values() if a.course_id == course_id]

    def has_open(self, course_id: str) -> Assignment | None:
        return next((a for a in self.of_course(course_id) if a.open), None)

    def covered(self, course_id: str, day: date) -> bool:
        """Open, or completed and still valid on `day`: nothing to assign."""
        return any(a.open or a.valid_on(day) for a in self.of_course(course_id))


def evolve_record(state: TrainingRecord, event: DomainEvent) -> TrainingRecord:
    match event:
        case TrainingAssigned():
            assignment = Assignment(
                event.assignment_id,
                event.course_id,
                event.course_name,
                event.assigned_on,
                event.due_on,
                event.recurs_every_months,
            )
        case TrainingCompleted():
            assignment = replace(
                state.assignments[event.assignment_id], completed_on=event.completed_on
            )
        case _:
            return state
    assignments = {**state.assignments, assignment.assignment_id: assignment}
    return TrainingRecord(event.employee_id, assignments)


def _assigned(
    employee_id: str, course: CourseToAssign, assigned_on: date, reason: AssignedBecause
) -> TrainingAssigned:
    if course.due_on < assigned_on:
        raise Invalid("training cannot be due before it is assigned")
    return TrainingAssigned(
        assignment_id=course.assignment_id,
        employee_id=employee_id,
        course_id=course.course_id,
        course_name=course.course_name,
        assigned_on=assigned_on,
        due_on=course.due_on,
        recurs_every_months=course.recurs_every_months,
        reason=reason,
    )


def decide_record(state: TrainingRecord, command: TrainingCommand) -> Sequence[DomainEvent]:
    match command:
        case AssignTraining():
            course = command.course
            if course.assignment_id in state.assignments:
                raise Rejected(f"assignment {course.assignment_id} already exists")
            already = state.has_open(course.course_id)
            if already is not None:
                raise Rejected(
                    f"course {course.course_id} is already assigned "
                    f"(assignment {already.assignment_id}, due {already.due_on})"
                )
            return [_assigned(command.employee_id, course, command.assigned_on, "assigned")]
        case AssignRequiredTraining():
            return [
                _assigned(command.employee_id, course, command.assigned_on, command.reason)
                for course in command.courses
                if not state.covered(course.course_id, command.assigned_on)
            ]
        case CompleteTraining():
            return _complete(state, command)


def _complete(state: TrainingRecord, c: CompleteTraining) -> Sequence[DomainEvent]:
    assignment = state.assignments.get(c.assignment_id)
    if assignment is None:
        raise NotFound(f"training assignment {c.assignment_id} not found")
    if assignment.completed_on is not None:
        raise Rejected(
            f"training assignment {c.assignment_id} was completed on {assignment.completed_on}"
        )
    if c.completed_on < assignment.assigned_on:
        raise Invalid(
            f"completed_on {c.completed_on} is before the training was assigned "
            f"({assignment.assigned_on})"
        )
    if c.completed_on > c.today:
        raise Invalid(f"completed_on {c.completed_on} is in the future")
    if not c.evidence.strip():
        raise Invalid("a completion needs evidence: a certificate id, URL or text")
    employee_id = state.employee_id
    events: list[DomainEvent] = [
        TrainingCompleted(
            assignment_id=assignment.assignment_id,
            employee_id=employee_id,
            course_id=assignment.course_id,
            completed_on=c.completed_on,
            evidence=c.evidence,
            recorded_by=c.recorded_by,
        )
    ]
    months = assignment.recurs_every_months
    if months is not None:
        # The next round: due when this completion ages out.
        next_round = CourseToAssign(
            assignment_id=c.next_assignment_id,
            course_id=assignment.course_id,
            course_name=assignment.course_name,
            due_on=add_months(c.completed_on, months),
            recurs_every_months=months,
        )
        events.append(_assigned(employee_id, next_round, c.completed_on, "recurrence"))
    return events


training_record = Decider[TrainingRecord, TrainingCommand](
    TrainingRecord(), evolve_record, decide_record
)
