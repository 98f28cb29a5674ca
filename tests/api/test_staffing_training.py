"""Training through the HTTP API on both backends: courses, assignments (by hand and on hire),
completion by the staff member themselves, the overdue list and the completion rate per site,
and who may do what (a manager of another site, another staff member: 403/404). Bad input
writes nothing.

Employees are hired by writing the people area's contract events to their streams as they are
(`hire`): the people routes are another area's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from services.staffing.domain import streams
from services.staffing.domain.events import EmployeeHired, Role
from services.suite import Suite
from shared.events import DomainEvent, Metadata, seal
from tests.api.conftest import TokenFor, post_ok
from tests.api.test_bad_input import PROBLEM
from tests.support import TestRunClock, every_case_holds, settled, wait_until

TODAY = date(2026, 11, 26)  # the test epoch: the suite's clock's date in these tests


async def record(suite: Suite, employee_id: str, *events: DomainEvent) -> None:
    """Append `events` to the employee's stream, as the people area's use cases would."""
    store = suite.service("staffing").event_store
    assert store is not None
    stream = streams.employee("acme", employee_id)
    version = await store.version(stream)
    meta = Metadata(tenant="acme", actor="hr-1", correlation_id="people")
    envelopes = [
        seal(
            event,
            stream=stream,
            stream_version=version + n,
            meta=meta,
            event_id=f"{stream}:{version + n}",
            time=TestRunClock().now(),
        )
        for n, event in enumerate(events, start=1)
    ]
    await store.append(stream, envelopes, version)


async def hire(
    suite: Suite,
    employee_id: str,
    role: Role = "nurse",
    site: str = "north",
    manager: str | None = "mgr-1",
    hired_on: date = date(2026, 11, 1),
) -> None:
    event = EmployeeHired(
        employee_id=employee_id,
        name=f"Name of {employee_id}",
        title=role.title(),
        role=role,
        site_ids=(site,),
        fte=1.0,
        manager_id=manager,
        hired_on=hired_on,
    )
    await record(suite, employee_id, event)


async def events_written(suite: Suite) -> int:
    store = suite.service("staffing").event_store
    assert store is not None
    return sum(len(c.events) for c in await store.read_all(0, 10_000))


COURSES = [
    {
        "course_id": "hipaa",
        "name": "HIPAA privacy",
        "required_for_roles": ["nurse", "front_desk"],
        "due_within_days": 30,
        "recurs_every_months": 12,
    },
    {
        "course_id": "osha-bbp",
        "name": "OSHA bloodborne pathogens",
        "required_for_roles": ["nurse"],
        "due_within_days": 14,
    },
    {"course_id": "fire", "name": "Fire safety", "due_within_days": 60},
]


@pytest.fixture
async def courses(client: httpx.AsyncClient) -> None:
    for course in COURSES:
        await post_ok(client, "/staffing/courses", course)


async def training_of(
    client: httpx.AsyncClient, employee_id: str, count: int, **headers: str
) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]] | None:
        response = await client.get(f"/staffing/employees/{employee_id}/training", headers=headers)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()["assignments"]
        return rows if len(rows) == count else None

    found = await wait_until(read, message=f"{count} assignments of {employee_id}")
    assert found is not None
    return found


async def test_a_hire_is_assigned_the_role_s_courses_and_a_staff_member_completes_their_own(
    client: httpx.AsyncClient, suite: Suite, courses: None, token_for: TokenFor
) -> None:
    await hire(suite, "emp-1")
    nurse = token_for("staff", sub="emp-1")

    rows = await training_of(client, "emp-1", 2, **nurse)

    assert [(r["course_id"], r["due_on"], r["status"]) for r in rows] == [
        ("osha-bbp", "2026-11-15", "overdue"),
        ("hipaa", "2026-12-01", "due"),
    ]
    hipaa = rows[1]["assignment_id"]
    body = {"completed_on": "2026-11-20", "evidence": "certificate HIPAA-0042"}
    response = await client.post(f"/staffing/training/{hipaa}/completion", json=body, headers=nurse)
    assert response.status_code == 201, response.text
    done = response.json()

    after = {"after_version": str(done["stream_version"])}
    response = await client.get("/staffing/employees/emp-1/training", params=after, headers=nurse)
    assert response.status_code == 200, response.text
    rows = response.json()["assignments"]
    completed = [r for r in rows if r["status"] == "completed"]
    assert [(r["course_id"], r["evidence"], r["recorded_by"]) for r in completed] == [
        ("hipaa", "certificate HIPAA-0042", "emp-1")
    ]
    # The next round of HIPAA, due a year after this completion.
    assert [(r["course_id"], r["due_on"]) for r in rows if r["reason"] == "recurrence"] == [
        ("hipaa", "2027-11-20")
    ]

    # Twice: 409, and nothing written.
    before = await events_written(suite)
    response = await client.post(f"/staffing/training/{hipaa}/completion", json=body, headers=nurse)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert await events_written(suite) == before


async def test_another_s_training_is_not_yours(
    client: httpx.AsyncClient, suite: Suite, courses: None, token_for: TokenFor
) -> None:
    await hire(suite, "emp-1")
    await hire(suite, "emp-2", site="south")
    [first, _] = await training_of(client, "emp-1", 2)
    await settled(suite)  # emp-2's assignments too: the reaction to a hire appends them
    before = await events_written(suite)

    other = token_for("staff", sub="emp-2")
    body = {"completed_on": "2026-11-20", "evidence": "x"}
    path = f"/staffing/training/{first['assignment_id']}/completion"
    assert (await client.post(path, json=body, headers=other)).status_code == 403
    response = await client.get("/staffing/employees/emp-1/training", headers=other)
    assert response.status_code == 404

    south = token_for("manager", sites=["south"], sub="mgr-2")
    response = await client.get("/staffing/employees/emp-1/training", headers=south)
    assert response.status_code == 404
    assign = {"course_id": "fire", "due_on": "2026-12-20"}
    response = await client.post("/staffing/employees/emp-1/training", json=assign, headers=south)
    assert response.status_code == 403
    response = await client.get("/staffing/training/overdue?site_id=north", headers=south)
    assert response.status_code == 403
    response = await client.get("/staffing/sites/north/training-compliance", headers=south)
    assert response.status_code == 403
    # Managers complete nobody's training; front desk defines no course.
    assert (await client.post(path, json=body, headers=south)).status_code == 403
    desk = token_for("front_desk", sites=["north"])
    response = await client.post(
        "/staffing/courses", json={**COURSES[2], "course_id": "x"}, headers=desk
    )
    assert response.status_code == 403
    assert await events_written(suite) == before

    north = token_for("manager", sites=["north"], sub="mgr-1")
    response = await client.post("/staffing/employees/emp-1/training", json=assign, headers=north)
    assert response.status_code == 201, response.text
    assert len(await training_of(client, "emp-1", 3, **north)) == 3


async def test_the_overdue_list_and_the_completion_rate_per_site(
    client: httpx.AsyncClient, suite: Suite, courses: None, token_for: TokenFor
) -> None:
    await hire(suite, "emp-1")
    await hire(suite, "emp-2")
    await hire(suite, "emp-3", site="south")
    [osha, _] = await training_of(client, "emp-1", 2)
    await training_of(client, "emp-2", 2)
    await training_of(client, "emp-3", 2)
    done = await post_ok(
        client,
        f"/staffing/training/{osha['assignment_id']}/completion",
        {"completed_on": "2026-11-25", "evidence": "https://lms.example/cert/77"},
    )
    manager = token_for("manager", sites=["north"], sub="mgr-1")
    after = {"after_stream": done["stream"], "after_version": str(done["stream_version"])}

    response = await client.get(
        "/staffing/training/overdue", params={"site_id": "north", **after}, headers=manager
    )
    assert response.status_code == 200, response.text
    overdue = response.json()["overdue"]
    assert [(r["employee_id"], r["course_id"]) for r in overdue] == [("emp-2", "osha-bbp")]
    assert overdue[0]["employee_name"] == "Name of emp-2"
    # Without a site: every site the manager has.
    response = await client.get("/staffing/training/overdue", headers=manager)
    assert [r["employee_id"] for r in response.json()["overdue"]] == ["emp-2"]
    # hr sees every site's.
    response = await client.get("/staffing/training/overdue", headers=token_for("hr"))
    assert sorted(r["employee_id"] for r in response.json()["overdue"]) == ["emp-2", "emp-3"]

    response = await client.get(
        "/staffing/sites/north/training-compliance", params=after, headers=manager
    )
    assert response.status_code == 200, response.text
    compliance = response.json()
    by_course = {c["course_id"]: c for c in compliance["courses"]}
    assert by_course["osha-bbp"] == {
        "course_id": "osha-bbp",
        "course_name": "OSHA bloodborne pathogens",
        "complete": 1,
        "overdue": 1,
        "pending": 0,
        "assigned": 2,
        "completion_rate": 0.5,
    }
    assert by_course["hipaa"]["pending"] == 2
    assert (compliance["staff"], compliance["assigned"], compliance["complete"]) == (2, 4, 1)
    assert compliance["completion_rate"] == 0.25


BAD_INPUT: list[tuple[str, dict[str, Any], int]] = [
    ("/staffing/courses", {"name": "x", "due_within_days": 0}, 422),
    (
        "/staffing/courses",
        {"name": "x", "due_within_days": 5, "required_for_roles": ["pilot"]},
        422,
    ),
    ("/staffing/courses", {**COURSES[0]}, 409),
    ("/staffing/employees/emp-1/training", {"course_id": "fire", "due_on": "2026-11-01"}, 422),
    ("/staffing/employees/emp-1/training", {"course_id": "nope", "due_on": "2026-12-01"}, 404),
    (
        "/staffing/employees/emp-404/training",
        {"course_id": "fire", "due_on": "2026-12-01"},
        404,
    ),
    ("/staffing/employees/emp-1/training", {"course_id": "hipaa", "due_on": "2026-12-01"}, 409),
    ("/staffing/employees/emp-1/training", {"course_id": "fire", "due_on": "0001-01-01"}, 422),
    (
        "/staffing/training/a-404/completion",
        {"completed_on": "2026-11-20", "evidence": "x"},
        404,
    ),
    ("COMPLETE", {"completed_on": "2026-10-31", "evidence": "x"}, 422),
    ("COMPLETE", {"completed_on": "2026-12-25", "evidence": "x"}, 422),
    ("COMPLETE", {"completed_on": "2026-11-20", "evidence": ""}, 422),
    ("COMPLETE", {"completed_on": "2026-11-20"}, 422),
]


async def test_bad_input_writes_nothing(
    client: httpx.AsyncClient, suite: Suite, courses: None
) -> None:
    await hire(suite, "emp-1")
    [first, _] = await training_of(client, "emp-1", 2)
    await settled(suite)  # nothing left to append in the background while the cases run

    async def refused(case: tuple[str, dict[str, Any], int]) -> None:
        path, body, status = case
        if path == "COMPLETE":
            path = f"/staffing/training/{first['assignment_id']}/completion"
        before = await events_written(suite)
        response = await client.post(path, json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        assert await events_written(suite) == before

    await every_case_holds(BAD_INPUT, refused)
