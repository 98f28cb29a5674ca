"""Training over HTTP: the course catalogue (hr, admin), assignments (hr; managers for their
sites' staff), completions (the employee themselves, or hr), and the read models: an employee's
training, the overdue list and the completion rate per site and course."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.staffing.api.common import Day, reach, reaches
from services.staffing.application.training import Training
from services.staffing.domain import streams
from services.staffing.domain.events import Role
from services.staffing.projections.training import PROJECTION, STAFF, staff_id
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Name, Recorded, check_site, read_after, recorded
from shared.readmodels import ReadModels

Configure = policy("hr", changes_state=True)  # and admin
Assign = policy("hr", "manager", site_scoped=True, changes_state=True)
Complete = policy("staff", "hr", changes_state=True)
ReadOwn = policy("hr", "manager", "staff", site_scoped=True)
ReadSites = policy("hr", "manager", site_scoped=True)

Evidence = Annotated[str, Field(min_length=1, max_length=2000)]


class CourseIn(Body):
    course_id: Id | None = None
    name: Name
    required_for_roles: list[Role] = Field(default_factory=list, max_length=20)
    due_within_days: int = Field(ge=1, le=3650)
    recurs_every_months: int | None = Field(default=None, ge=1, le=120)


class AssignmentIn(Body):
    assignment_id: Id | None = None
    course_id: Id
    due_on: Day


class CompletionIn(Body):
    completed_on: Day
    evidence: Evidence


def build_router(training: Training, read_models: ReadModels, wait_timeout: float) -> APIRouter:
    router = APIRouter(prefix="/staffing", tags=["training"])

    async def wait_for_staff(tenant: str, employee_id: str, stream: str, version: int) -> None:
        doc_id = staff_id(tenant, employee_id)
        await read_after(
            read_models, PROJECTION, STAFF, doc_id, stream, version, wait_timeout,
            training.stream_version,
        )  # fmt: skip

    async def after(who: Principal, stream: str | None, version: int | None) -> None:
        """Read-your-writes on a site-wide read: `stream` is an employee's training record (or
        employee stream) of the caller's tenant."""
        if version is None:
            return
        prefixes = (f"{who.tenant}:training:", f"{who.tenant}:employee:")
        if stream is None or not stream.startswith(prefixes):
            raise HTTPException(400, "after_version needs the after_stream it belongs to")
        await wait_for_staff(who.tenant, stream.rsplit(":", 1)[1], stream, version)

    @router.post("/courses", status_code=201)
    async def define_course(
        request: Request, body: CourseIn, who: Principal = Configure
    ) -> Recorded:
        course_id = body.course_id or training.new_id()
        outcome = await training.define_course(
            metadata(request, who),
            course_id=course_id,
            name=body.name,
            required_for_roles=tuple(body.required_for_roles),
            due_within_days=body.due_within_days,
            recurs_every_months=body.recurs_every_months,
        )
        return recorded(course_id, outcome)

    @router.post("/employees/{employee_id}/training", status_code=201)
    async def assign(
        request: Request, employee_id: Id, body: AssignmentIn, who: Principal = Assign
    ) -> Recorded:
        """Assign a course, due `due_on` (today or later). A manager assigns their sites' staff
        only (403 for another site's)."""
        assignment_id = body.assignment_id or training.new_id()
        outcome = await training.assign(
            metadata(request, who),
            assignment_id=assignment_id,
            employee_id=employee_id,
            course_id=body.course_id,
            due_on=body.due_on,
            within=reach(who),
        )
        return recorded(assignment_id, outcome)

    @router.post("/training/{assignment_id}/completion", status_code=201)
    async def complete(
        request: Request, assignment_id: Id, body: CompletionIn, who: Principal = Complete
    ) -> Recorded:
        """Complete an assignment with its evidence: staff their own only (403 for another's),
        hr anyone's. Before the assignment's date or in the future: 422; twice: 409."""
        outcome = await training.complete(
            metadata(request, who),
            assignment_id=assignment_id,
            completed_on=body.completed_on,
            evidence=body.evidence,
            only_by=None if reach(who) == "*" else who.sub,
        )
        return recorded(assignment_id, outcome)

    @router.get("/employees/{employee_id}/training")
    async def employee_training(
        employee_id: Id,
        who: Principal = ReadOwn,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """An employee's assignments, each `due`, `overdue` or `completed`. Staff read their
        own; managers their sites' staff. `after_version` (of the employee's training record,
        as a write to it answered) waits for that write."""
        if reach(who) == [] and employee_id != who.sub:
            raise HTTPException(404, f"employee {employee_id} not found")
        if after_version is not None:
            stream = streams.training(who.tenant, employee_id)
            await wait_for_staff(who.tenant, employee_id, stream, after_version)
        person = await training.staff_member(who.tenant, employee_id)
        if person is None or not reaches(who, employee_id, person.get("site_ids") or []):
            raise HTTPException(404, f"employee {employee_id} not found")
        return {
            "employee_id": employee_id,
            "name": person.get("name"),
            "site_ids": person.get("site_ids", []),
            "as_of": training.today().isoformat(),
            "assignments": await training.employee_training(who.tenant, employee_id),
        }

    @router.get("/training/overdue")
    async def overdue(
        who: Principal = ReadSites,
        site_id: Id | None = None,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """Open assignments past due of employed staff: at `site_id`, or at every site the
        caller reaches."""
        if site_id is not None:
            check_site(who, site_id)
        await after(who, after_stream, after_version)
        sites = [site_id] if site_id is not None else reach(who)
        rows = await training.overdue(who.tenant, sites)
        return {"as_of": training.today().isoformat(), "site_id": site_id, "overdue": rows}

    @router.get("/sites/{site_id}/training-compliance")
    async def compliance(
        site_id: Id,
        who: Principal = ReadSites,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """Per course, the site's staff assigned it: complete, overdue, pending, and the
        completion rate (complete / assigned); the same over every course."""
        check_site(who, site_id)
        await after(who, after_stream, after_version)
        return await training.compliance(who.tenant, site_id)

    return router
