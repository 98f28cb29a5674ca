"""Training on the service layer: required courses assigned by the reaction to a hire and to a
change of job (once, however often the event is delivered), the next round of a recurring
course on completion, and the compliance queries on the clock's today."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from services.staffing.app import UseCases
from services.staffing.application.training import AssignRequiredCourses
from services.staffing.domain import streams
from services.staffing.domain.employment import NotTheirs
from services.staffing.domain.events import EmployeeHired, EmployeeTerminated, JobChanged
from shared.domain import Decider, Invalid, Rejected
from shared.events import DomainEvent, Envelope
from shared.kit import Assembled
from tests.service.conftest import META
from tests.support import TestRunClock, wait_until

Built = Assembled[UseCases]


def _record(state: None, events: Sequence[DomainEvent]) -> Sequence[DomainEvent]:
    return events


# Writes the people area's contract events as they are, on the employee's stream.
RECORD = Decider[None, Sequence[DomainEvent]](None, lambda s, e: s, _record)


async def record(built: Built, employee_id: str, *events: DomainEvent) -> Envelope:
    stream = streams.employee(META.tenant, employee_id)
    await built.kit.handler.handle(stream, RECORD, events, META)
    [*_, last] = await built.kit.store.load(stream)
    return last


def hired(employee_id: str, role: str = "nurse", **more: Any) -> EmployeeHired:
    fields: dict[str, Any] = {
        "name": f"Name of {employee_id}",
        "title": role.title(),
        "role": role,
        "site_ids": ("north",),
        "fte": 1.0,
        "manager_id": "mgr-1",
        "hired_on": date(2026, 11, 2),
        **more,
    }
    return EmployeeHired(employee_id=employee_id, **fields)


async def define_courses(built: Built) -> None:
    training = built.use_cases.training
    await training.define_course(
        META,
        course_id="hipaa",
        name="HIPAA privacy",
        required_for_roles=("nurse", "front_desk", "physician"),
        due_within_days=30,
        recurs_every_months=12,
    )
    await training.define_course(
        META,
        course_id="osha-bbp",
        name="OSHA bloodborne pathogens",
        required_for_roles=("nurse", "physician"),
        due_within_days=14,
        recurs_every_months=None,
    )


async def assignments(built: Built, employee_id: str, count: int) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]] | None:
        rows = await built.use_cases.training.employee_training(META.tenant, employee_id)
        return rows if len(rows) == count else None

    found = await wait_until(read, message=f"{count} assignments of {employee_id}")
    assert found is not None
    return found


async def test_a_hire_assigns_the_courses_the_role_requires_once(
    staffing_service: Built,
) -> None:
    await define_courses(staffing_service)
    await record(staffing_service, "emp-1", hired("emp-1"))

    rows = await assignments(staffing_service, "emp-1", 2)

    assert [(r["course_id"], r["due_on"], r["reason"]) for r in rows] == [
        ("osha-bbp", "2026-11-16", "hired"),
        ("hipaa", "2026-12-02", "hired"),
    ]
    # The hire delivered again (a restart, a rebalance): nothing more.
    [envelope] = await staffing_service.kit.store.load(streams.employee("acme", "emp-1"))
    reaction = AssignRequiredCourses(staffing_service.use_cases.training)
    await reaction.react(hired("emp-1"), envelope)
    training = streams.training("acme", "emp-1")
    assert await staffing_service.use_cases.training.stream_version(training) == 2


async def test_a_change_into_a_role_assigns_what_it_adds(staffing_service: Built) -> None:
    await define_courses(staffing_service)
    await record(staffing_service, "emp-2", hired("emp-2", role="front_desk"))
    await assignments(staffing_service, "emp-2", 1)  # HIPAA

    change = JobChanged(
        employee_id="emp-2",
        title="Nurse",
        role="nurse",
        site_ids=("north",),
        fte=1.0,
        effective_on=date(2026, 11, 20),
    )
    await record(staffing_service, "emp-2", change)

    rows = await assignments(staffing_service, "emp-2", 2)
    added = [r for r in rows if r["reason"] == "job_changed"]
    assert [(r["course_id"], r["due_on"]) for r in added] == [("osha-bbp", "2026-12-04")]


async def test_a_recurring_course_comes_round_again_a_year_after_completion(
    staffing_service: Built,
) -> None:
    training = staffing_service.use_cases.training
    await define_courses(staffing_service)
    await record(staffing_service, "emp-3", hired("emp-3"))
    rows = await assignments(staffing_service, "emp-3", 2)
    hipaa = next(r for r in rows if r["course_id"] == "hipaa")

    done = await training.complete(
        META, assignment_id=hipaa["assignment_id"], completed_on=date(2026, 11, 20), evidence="c-1"
    )
    assert len(done.events) == 2

    rows = await assignments(staffing_service, "emp-3", 3)
    again = [r for r in rows if r["reason"] == "recurrence"]
    assert [(r["course_id"], r["due_on"], r["status"]) for r in again] == [
        ("hipaa", "2027-11-20", "due")
    ]
    with pytest.raises(Rejected):
        await training.complete(
            META,
            assignment_id=hipaa["assignment_id"],
            completed_on=date(2026, 11, 21),
            evidence="c",
        )


async def test_staff_complete_only_their_own_training(staffing_service: Built) -> None:
    training = staffing_service.use_cases.training
    await define_courses(staffing_service)
    await record(staffing_service, "emp-4", hired("emp-4"))
    [first, *_] = await assignments(staffing_service, "emp-4", 2)
    with pytest.raises(NotTheirs):
        await training.complete(
            META,
            assignment_id=first["assignment_id"],
            completed_on=date(2026, 11, 20),
            evidence="c",
            only_by="emp-5",
        )
    with pytest.raises(Invalid, match="in the future"):
        await training.complete(
            META,
            assignment_id=first["assignment_id"],
            completed_on=training.today() + timedelta(days=1),
            evidence="c",
            only_by="emp-4",
        )


async def test_overdue_and_compliance_follow_the_clock(staffing_service: Built) -> None:
    training = staffing_service.use_cases.training
    await define_courses(staffing_service)
    # Hired on 1 Nov: OSHA (14 days) is overdue by the test epoch (26 Nov), HIPAA (30) is not.
    await record(staffing_service, "emp-6", hired("emp-6", hired_on=date(2026, 11, 1)))
    await record(staffing_service, "emp-7", hired("emp-7", hired_on=date(2026, 11, 1)))
    await record(staffing_service, "emp-8", hired("emp-8", site_ids=("south",)))
    for employee in ("emp-6", "emp-7"):
        await assignments(staffing_service, employee, 2)
    rows = await assignments(staffing_service, "emp-6", 2)
    osha = next(r for r in rows if r["course_id"] == "osha-bbp")
    assert osha["status"] == "overdue"
    await training.complete(
        META, assignment_id=osha["assignment_id"], completed_on=date(2026, 11, 25), evidence="c"
    )

    async def settled() -> list[dict[str, Any]] | None:
        rows = await training.overdue("acme", ["north"])
        return rows if len(rows) == 1 else None

    overdue = await wait_until(settled, message="one overdue")
    assert overdue is not None
    [late] = overdue
    assert (late["employee_id"], late["course_id"], late["status"]) == (
        "emp-7",
        "osha-bbp",
        "overdue",
    )
    compliance = await training.compliance("acme", "north")
    by_course = {c["course_id"]: c for c in compliance["courses"]}
    assert by_course["osha-bbp"]["complete"] == 1
    assert by_course["osha-bbp"]["overdue"] == 1
    assert by_course["osha-bbp"]["completion_rate"] == 0.5
    assert by_course["hipaa"]["pending"] == 2
    assert compliance["staff"] == 2  # emp-8 works at south

    # A terminated employee leaves the site's figures.
    await record(
        staffing_service,
        "emp-7",
        EmployeeTerminated(employee_id="emp-7", last_day=date(2026, 11, 25), reason="left"),
    )

    async def gone() -> list[dict[str, Any]] | None:
        rows = await training.overdue("acme", ["north"])
        return [{}] if rows == [] else None

    await wait_until(gone, message="the terminated employee off the overdue list")


async def test_a_completion_ages_out_and_the_course_is_overdue_again(
    staffing_service: Built,
) -> None:
    training = staffing_service.use_cases.training
    await define_courses(staffing_service)
    await record(staffing_service, "emp-9", hired("emp-9", role="front_desk"))
    [hipaa] = await assignments(staffing_service, "emp-9", 1)
    await training.complete(
        META, assignment_id=hipaa["assignment_id"], completed_on=date(2026, 11, 20), evidence="c"
    )
    await assignments(staffing_service, "emp-9", 2)
    compliance = await training.compliance("acme", "north")
    assert (compliance["complete"], compliance["completion_rate"]) == (1, 1.0)
    assert await training.overdue("acme", ["north"]) == []

    # A year and a day after the completion, the next round is overdue.
    clock = staffing_service.kit.clock
    assert isinstance(clock, TestRunClock)
    clock.shift = timedelta(days=366)

    [late] = await training.overdue("acme", ["north"])
    assert (late["course_id"], late["due_on"], late["reason"]) == (
        "hipaa",
        "2027-11-20",
        "recurrence",
    )
    compliance = await training.compliance("acme", "north")
    assert (compliance["overdue"], compliance["completion_rate"]) == (1, 0.0)


async def test_a_course_newly_required_of_a_role_is_assigned_to_its_staff(
    staffing_service: Built,
) -> None:
    training = staffing_service.use_cases.training
    await record(staffing_service, "emp-10", hired("emp-10"))
    await record(staffing_service, "emp-11", hired("emp-11", role="biller"))
    await wait_until(
        lambda: training.staff_in_roles("acme", ["nurse", "biller"]),
        message="the staff in the read model",
    )

    await define_courses(staffing_service)

    rows = await assignments(staffing_service, "emp-10", 2)
    assert {(r["course_id"], r["reason"]) for r in rows} == {
        ("hipaa", "course_defined"),
        ("osha-bbp", "course_defined"),
    }
    assert {r["due_on"] for r in rows} == {
        (training.today() + timedelta(days=30)).isoformat(),
        (training.today() + timedelta(days=14)).isoformat(),
    }
    assert await training.employee_training("acme", "emp-11") == []  # billers need neither
