"""Training use cases: the course catalogue, assignments (by hand, and of the courses a role
requires on hire or change of job), completions, and the training read models' queries.

"Today" is the kit clock's date (UTC): an assignment is overdue from the day after it is due.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from services.staffing.application.employment import Sites, employee
from services.staffing.domain import streams
from services.staffing.domain.employment import NotTheirs
from services.staffing.domain.events import CourseDefined, EmployeeHired, JobChanged, Role
from services.staffing.domain.training import (
    AssignRequiredTraining,
    AssignTraining,
    CompleteTraining,
    CourseToAssign,
    DefineCourse,
    TrainingRecord,
    catalogue,
    training_record,
)
from services.staffing.projections.training import ASSIGNMENTS, PROJECTION, STAFF
from shared.commands import CommandHandler, Outcome
from shared.domain import DomainError, NotFound
from shared.events import DomainEvent, Envelope, Metadata
from shared.readmodels import ReadModels, public
from shared.usecases import UseCases

SYSTEM = "system:staffing"
Required = Literal["hired", "job_changed", "course_defined"]  # why required courses are assigned


class Training(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    def today(self) -> date:
        return self.now().date()

    # ------------------------------------------------------------------------- commands

    async def define_course(
        self,
        meta: Metadata,
        *,
        course_id: str,
        name: str,
        required_for_roles: tuple[Role, ...],
        due_within_days: int,
        recurs_every_months: int | None,
    ) -> Outcome[Any]:
        command = DefineCourse(
            course_id=course_id,
            name=name,
            required_for_roles=required_for_roles,
            due_within_days=due_within_days,
            recurs_every_months=recurs_every_months,
        )
        return await self.decide(streams.courses(meta.tenant), catalogue, command, meta)

    async def assign(
        self,
        meta: Metadata,
        *,
        assignment_id: str,
        employee_id: str,
        course_id: str,
        due_on: date,
        within: Sites = "*",
    ) -> Outcome[TrainingRecord]:
        """Assign one course by hand, due `due_on` (today or later), to an employee at one of
        the sites `within`."""
        await employee(self, meta.tenant, employee_id, within)
        course = (await self.state(streams.courses(meta.tenant), catalogue)).courses.get(course_id)
        if course is None:
            raise NotFound(f"course {course_id} not found")
        command = AssignTraining(
            employee_id=employee_id,
            course=CourseToAssign(
                assignment_id=assignment_id,
                course_id=course.course_id,
                course_name=course.name,
                due_on=due_on,
                recurs_every_months=course.recurs_every_months,
            ),
            assigned_on=self.today(),
        )
        return await self.decide(
            streams.training(meta.tenant, employee_id), training_record, command, meta
        )

    async def assign_required(
        self,
        meta: Metadata,
        *,
        employee_id: str,
        effective_on: date,
        reason: Required,
        role: str | None = None,
    ) -> Outcome[TrainingRecord] | None:
        """Assign the courses `role` (by default the employee's current one) requires, due
        from `effective_on`; those already open or still valid are skipped, so a second
        delivery assigns nothing. None: the role requires none."""
        found = await employee(self, meta.tenant, employee_id)  # 409 if no longer employed
        role = role or found.role
        if role is None:
            return None
        required = (await self.state(streams.courses(meta.tenant), catalogue)).required_for(role)
        if not required:
            return None
        command = AssignRequiredTraining(
            employee_id=employee_id,
            courses=tuple(
                CourseToAssign(
                    assignment_id=self.new_id(),
                    course_id=c.course_id,
                    course_name=c.name,
                    due_on=effective_on + timedelta(days=c.due_within_days),
                    recurs_every_months=c.recurs_every_months,
                )
                for c in required
            ),
            assigned_on=effective_on,
            reason=reason,
        )
        return await self.decide(
            streams.training(meta.tenant, employee_id), training_record, command, meta
        )

    async def assignment_stream(self, tenant: str, assignment_id: str) -> str:
        found = await self._handler.store.streams_tagged(
            streams.assignment_tag(tenant, assignment_id)
        )
        if not found:
            raise NotFound(f"training assignment {assignment_id} not found")
        return found[-1]

    async def complete(
        self,
        meta: Metadata,
        *,
        assignment_id: str,
        completed_on: date,
        evidence: str,
        only_by: str | None = None,
    ) -> Outcome[TrainingRecord]:
        """Record a completion. `only_by`: the employee the caller is, who may complete only
        their own training (403 for another's)."""
        stream = await self.assignment_stream(meta.tenant, assignment_id)
        if only_by is not None and streams.training_employee(stream) != only_by:
            raise NotTheirs("staff complete their own training only")
        command = CompleteTraining(
            assignment_id=assignment_id,
            completed_on=completed_on,
            evidence=evidence,
            recorded_by=meta.actor,
            today=self.today(),
            next_assignment_id=self.new_id(),
        )
        return await self.decide(stream, training_record, command, meta)

    # ------------------------------------------------------------------------- queries

    async def staff_member(self, tenant: str, employee_id: str) -> dict[str, Any] | None:
        doc = await self._read_models.get(PROJECTION, STAFF, f"{tenant}:{employee_id}")
        return public(doc)

    async def employee_training(self, tenant: str, employee_id: str) -> list[dict[str, Any]]:
        docs = await self._read_models.find(
            PROJECTION,
            ASSIGNMENTS,
            {"tenant": tenant, "employee_id": employee_id},
            sort=[("due_on", 1), ("assignment_id", 1)],
        )
        today = self.today().isoformat()
        return [_with_status(doc, today) for doc in docs]

    async def _staff(self, tenant: str, sites: Sites) -> dict[str, dict[str, Any]]:
        """The employed staff of the tenant at any of `sites`, by id."""
        docs = await self._read_models.find(PROJECTION, STAFF, {"tenant": tenant, "active": True})
        return {
            d["employee_id"]: d
            for d in docs
            if sites == "*" or set(d.get("site_ids") or ()) & set(sites)
        }

    async def staff_in_roles(self, tenant: str, roles: Sequence[str]) -> list[str]:
        """The employed staff in any of `roles`, as the read model has them."""
        docs = await self._read_models.find(PROJECTION, STAFF, {"tenant": tenant, "active": True})
        return sorted(d["employee_id"] for d in docs if d.get("role") in roles)

    async def role_recorded_at(self, tenant: str, employee_id: str) -> datetime | None:
        """When the employee's current role was recorded (their last hire or change of job),
        as the event store has it."""
        kinds = {EmployeeHired.type_name(), JobChanged.type_name()}
        envelopes = await self._handler.store.load(streams.employee(tenant, employee_id))
        times = [e.time for e in envelopes if e.type in kinds]
        return times[-1] if times else None

    async def overdue(self, tenant: str, sites: Sites) -> list[dict[str, Any]]:
        """Open assignments past their due date of employed staff at `sites`, longest overdue
        first."""
        today = self.today().isoformat()
        staff = await self._staff(tenant, sites)
        docs = await self._read_models.find(
            PROJECTION,
            ASSIGNMENTS,
            {"tenant": tenant, "status": "open", "due_on": {"$lt": today}},
            sort=[("due_on", 1), ("assignment_id", 1)],
        )
        found = []
        for doc in docs:
            person = staff.get(doc["employee_id"])
            if person is not None:
                row = _with_status(doc, today)
                row.update(employee_name=person.get("name"), site_ids=person.get("site_ids", []))
                found.append(row)
        return found

    async def compliance(self, tenant: str, site_id: str) -> dict[str, Any]:
        """Per course, of the site's employed staff who were assigned it: how many are complete
        (completed, and nothing of it overdue), overdue, or pending (not yet due), and the
        completion rate; and the same over every course."""
        today = self.today().isoformat()
        staff = await self._staff(tenant, [site_id])
        docs = (
            await self._read_models.find(
                PROJECTION, ASSIGNMENTS, {"tenant": tenant, "employee_id": {"$in": sorted(staff)}}
            )
            if staff
            else []
        )
        per: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        names: dict[str, str] = {}
        for doc in docs:
            per[(doc["course_id"], doc["employee_id"])].append(_with_status(doc, today))
            names[doc["course_id"]] = doc["course_name"]
        counts: dict[str, dict[str, int]] = defaultdict(
            lambda: {"complete": 0, "overdue": 0, "pending": 0}
        )
        for (course_id, _), rows in per.items():
            counts[course_id][_standing(rows)] += 1
        courses = [
            {"course_id": c, "course_name": names[c], **n, **_rate(n)}
            for c, n in sorted(counts.items())
        ]
        total = {k: sum(c[k] for c in courses) for k in ("complete", "overdue", "pending")}
        return {
            "site_id": site_id,
            "as_of": today,
            "staff": len(staff),
            "courses": courses,
            **total,
            **_rate(total),
        }


def _with_status(doc: dict[str, Any], today: str) -> dict[str, Any]:
    row = public(doc) or {}
    row.pop("tenant", None)
    if row.get("status") == "open":
        row["status"] = "overdue" if row["due_on"] < today else "due"
    return row


def _standing(rows: list[dict[str, Any]]) -> str:
    if any(r["status"] == "overdue" for r in rows):
        return "overdue"
    if any(r["status"] == "completed" for r in rows):
        return "complete"
    return "pending"


def _rate(counts: dict[str, Any]) -> dict[str, Any]:
    assigned = counts["complete"] + counts["overdue"] + counts["pending"]
    return {
        "assigned": assigned,
        "completion_rate": round(counts["complete"] / assigned, 4) if assigned else None,
    }


# ----------------------------------------------------------------------------- reaction


def caused_by(envelope: Envelope) -> Metadata:
    return Metadata.reacting_to(envelope, SYSTEM)


class AssignRequiredCourses:
    """An employee hired, or changing job, is assigned the courses their role requires; a
    course newly defined as required of roles is assigned, due from today, to the employed
    staff in them whose role was recorded before the course (as the `staffing.training` read
    model lists them: someone hired a moment before the course may be missing there, and is
    then assigned it at their next change of job)."""

    name = "staffing.assign_required_training"
    contexts = ("staffing",)

    def __init__(self, training: Training) -> None:
        self._training = training

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        meta = caused_by(envelope)
        match event:
            case EmployeeHired():
                await self._assign(meta, event.employee_id, event.hired_on, "hired", event.role)
            case JobChanged():
                await self._assign(
                    meta, event.employee_id, event.effective_on, "job_changed", event.role
                )
            case CourseDefined() if event.required_for_roles:
                await self._course_defined(meta, event, envelope)

    async def _course_defined(
        self, meta: Metadata, event: CourseDefined, envelope: Envelope
    ) -> None:
        today = self._training.today()
        roles = event.required_for_roles
        for employee_id in await self._training.staff_in_roles(envelope.tenant, roles):
            # A role recorded after the course: its own reaction assigns the course, due from
            # the hire or change (the catalogue it folds has the course by then).
            since = await self._training.role_recorded_at(envelope.tenant, employee_id)
            if since is not None and since <= envelope.time:
                await self._assign(meta, employee_id, today, "course_defined")

    async def _assign(
        self,
        meta: Metadata,
        employee_id: str,
        on: date,
        reason: Required,
        role: str | None = None,
    ) -> None:
        with contextlib.suppress(DomainError):  # never hired, terminated since: nothing to do
            await self._training.assign_required(
                meta, employee_id=employee_id, effective_on=on, reason=reason, role=role
            )
