"""Rosters, coverage gaps, time off and PTO over HTTP, on both backends: who may do what, and
bad input answering 4xx with nothing written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
import pytest

from services.staffing.contracts import registry
from services.staffing.domain import streams
from services.staffing.domain.events import EmployeeHired, Role
from services.suite import Suite
from shared.clock import UuidIds
from shared.commands import CommandHandler
from shared.domain import Decider
from shared.events import DomainEvent, Metadata
from shared.settings import Settings
from tests.api.conftest import TokenFor, post_ok
from tests.support import TestRunClock, wait_until

# Monday 7 December 2026 (ISO week 2026-W50); the test clock stands at Thursday 26 November.
WEEK = "2026-W50"
MONDAY = "2026-12-07"

# Appends the events it is given: how these tests stand in for the people area's hiring.
RECORD: Decider[None, Sequence[DomainEvent]] = Decider(None, lambda s, e: s, lambda s, c: c)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, with the PTO accrual timer looking every 0.2 s."""
    return settings.model_copy(update={"pto_accrual_timer_seconds": 0.2})


async def hire(
    suite: Suite,
    employee_id: str,
    *,
    site_ids: tuple[str, ...] = ("north",),
    role: Role = "medical_assistant",
    manager_id: str | None = "m1",
    hired_on: date = date(2026, 11, 16),  # no pay period of theirs ended yet: no accrual
    tenant: str = "acme",
) -> None:
    """An employee hired into the staffing event store, as the people area records it."""
    store = suite.service("staffing").event_store
    assert store is not None
    handler = CommandHandler(store, registry, TestRunClock(), UuidIds())
    hired = EmployeeHired(
        employee_id=employee_id,
        name="Employee",
        title=role,
        role=role,
        site_ids=site_ids,
        fte=1.0,
        manager_id=manager_id,
        hired_on=hired_on,
    )
    meta = Metadata(tenant=tenant, actor="hr-1", correlation_id="hire")
    await handler.handle(streams.employee(tenant, employee_id), RECORD, [hired], meta)


async def version(suite: Suite, stream: str) -> int:
    store = suite.service("staffing").event_store
    assert store is not None
    return await store.version(stream)


async def site(client: httpx.AsyncClient, site_id: str = "north") -> None:
    response = await client.put(
        f"/staffing/sites/{site_id}", json={"time_zone": "America/New_York"}
    )
    assert response.status_code == 200, response.text
    await post_ok(
        client,
        f"/staffing/sites/{site_id}/shift-templates",
        {
            "template_id": "day",
            "name": "Day",
            "start": "08:00",
            "end": "16:00",
            "weekdays": [0, 1, 2, 3, 4],
        },
    )


async def roster(client: httpx.AsyncClient, after: dict[str, Any] | None = None) -> dict[str, Any]:
    params = {"week": WEEK}
    if after:
        params |= {"after_stream": after["stream"], "after_version": str(after["stream_version"])}
    response = await client.get("/staffing/sites/north/roster", params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_the_roster_shows_the_hours_below_the_minimum(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await site(client)
    await hire(suite, "e1")
    await hire(suite, "e2")
    await hire(suite, "n1", role="nurse")
    minimums = [
        {"weekday": 0, "hour": 8, "headcount": 2},
        {"weekday": 0, "hour": 15, "headcount": 2},
        {"weekday": 0, "hour": 9, "headcount": 1, "role": "nurse"},
    ]
    response = await client.put(
        "/staffing/sites/north/minimum-staffing", json={"minimums": minimums}
    )
    assert response.status_code == 200, response.text
    first = await post_ok(
        client,
        "/staffing/sites/north/roster",
        {"shift_id": "s1", "employee_id": "e1", "date": MONDAY, "template_id": "day"},
    )
    shown = await roster(client, first)
    monday = shown["days"][0]
    assert monday["day"] == MONDAY
    assert [(s["shift_id"], s["local_start"][11:16], s["start"]) for s in monday["shifts"]] == [
        ("s1", "08:00", "2026-12-07T13:00:00Z")
    ]
    assert [(g["hour"], g["role"], g["rostered"], g["short"]) for g in shown["gaps"]] == [
        (8, None, 1, 1),
        (9, "nurse", 0, 1),
        (15, None, 1, 1),
    ]
    # e2 from 08:30 covers 15:00 but not the whole of 8:00 to 9:00; the nurse covers 9:00.
    await post_ok(
        client,
        "/staffing/sites/north/roster",
        {"shift_id": "s2", "employee_id": "e2", "date": MONDAY, "start": "08:30", "end": "16:30"},
    )
    last = await post_ok(
        client,
        "/staffing/sites/north/roster",
        {"shift_id": "s3", "employee_id": "n1", "date": MONDAY, "start": "09:00", "end": "10:00"},
    )
    shown = await roster(client, last)
    assert [(g["hour"], g["role"], g["rostered"]) for g in shown["gaps"]] == [(8, None, 1)]
    # Unassigned, the gap at 15:00 is back.
    response = await client.delete("/staffing/sites/north/roster/s2")
    assert response.status_code == 200, response.text
    shown = await roster(client, response.json())
    assert [(g["hour"], g["rostered"]) for g in shown["gaps"]] == [(8, 1), (15, 1)]


async def test_overlapping_shifts_for_one_person_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await site(client, "north")
    await site(client, "south")
    await hire(suite, "e1", site_ids=("north", "south"))
    await post_ok(
        client,
        "/staffing/sites/north/roster",
        {"shift_id": "s1", "employee_id": "e1", "date": MONDAY, "start": "22:00", "end": "06:00"},
    )
    stream = streams.employee_time("acme", "e1")
    before = await version(suite, stream)
    # The next morning at another site, before the night shift ends: 409.
    response = await client.post(
        "/staffing/sites/south/roster",
        json={"employee_id": "e1", "date": "2026-12-08", "start": "05:00", "end": "12:00"},
    )
    assert response.status_code == 409, response.text
    assert "already has shift s1 at site north" in response.json()["detail"]
    assert await version(suite, stream) == before
    # From when it ends: fine.
    await post_ok(
        client,
        "/staffing/sites/south/roster",
        {"employee_id": "e1", "date": "2026-12-08", "start": "06:00", "end": "12:00"},
    )
    # A shift id is the tenant's: another employee's shift cannot take it.
    await hire(suite, "e2")
    response = await client.post(
        "/staffing/sites/north/roster",
        json={"shift_id": "s1", "employee_id": "e2", "date": MONDAY, "template_id": "day"},
    )
    assert response.status_code == 409
    assert await version(suite, streams.employee_time("acme", "e2")) == 0


async def test_bad_roster_input_answers_4xx_and_writes_nothing(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await site(client)
    await hire(suite, "e1")
    await hire(suite, "dr-1", role="physician")
    cases: list[tuple[str, dict[str, Any], int]] = [
        ("e1", {"date": MONDAY, "start": "09:00", "end": "09:00"}, 422),
        ("e1", {"date": MONDAY, "template_id": "day", "start": "09:00"}, 422),
        ("e1", {"date": "2026-12-12", "template_id": "day"}, 422),  # a Saturday
        ("e1", {"date": MONDAY, "template_id": "nope"}, 404),
        ("e1", {"date": MONDAY, "start": "25:00", "end": "26:00"}, 422),
        ("dr-1", {"date": MONDAY, "template_id": "day"}, 422),  # providers are not rostered
        ("ghost", {"date": MONDAY, "template_id": "day"}, 404),
        ("bad id!", {"date": MONDAY, "template_id": "day"}, 422),
    ]
    for employee_id, body, status in cases:
        response = await client.post(
            "/staffing/sites/north/roster", json={"employee_id": employee_id, **body}
        )
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    for employee_id in ("e1", "dr-1", "ghost"):
        assert await version(suite, streams.employee_time("acme", employee_id)) == 0
    response = await client.post(
        "/staffing/sites/east/roster",
        json={"employee_id": "e1", "date": MONDAY, "template_id": "day"},
    )
    assert response.status_code == 409  # east has no time zone yet
    bad_template = {"name": "x", "start": "08:00", "end": "08:00", "weekdays": [0]}
    response = await client.post("/staffing/sites/north/shift-templates", json=bad_template)
    assert response.status_code == 422
    response = await client.put("/staffing/sites/north", json={"time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    response = await client.get("/staffing/sites/north/roster", params={"week": "2026-W60"})
    assert response.status_code == 422
    assert await version(suite, streams.roster_site("acme", "north")) == 2


async def test_a_manager_rosters_only_at_their_sites(
    client: httpx.AsyncClient, suite: Suite, token_for: TokenFor
) -> None:
    await site(client, "south")
    await hire(suite, "e1", site_ids=("south",))
    manager = token_for("manager", sites=["north"], sub="m1")
    body = {"employee_id": "e1", "date": MONDAY, "template_id": "day"}
    response = await client.post("/staffing/sites/south/roster", json=body, headers=manager)
    assert response.status_code == 403
    response = await client.get(
        "/staffing/sites/south/roster", params={"week": WEEK}, headers=manager
    )
    assert response.status_code == 403
    response = await client.get("/staffing/sites/south/pto-balances", headers=manager)
    assert response.status_code == 403
    theirs = token_for("manager", sites=["south"], sub="m2")
    response = await client.post("/staffing/sites/south/roster", json=body, headers=theirs)
    assert response.status_code == 201, response.text
    assert await version(suite, streams.employee_time("acme", "e1")) == 1


async def test_time_off_is_requested_by_the_employee_and_decided_by_their_manager(
    client: httpx.AsyncClient, suite: Suite, token_for: TokenFor
) -> None:
    await site(client)
    await hire(suite, "e1", manager_id="m1", hired_on=date(2026, 1, 12))

    # Hired a year ago, the accrual timer credits the pay periods since: 22 x 4.62 h.
    async def accrued() -> dict[str, Any] | None:
        response = await client.get(
            "/staffing/employees/e1/pto", headers=token_for("staff", sub="e1")
        )
        found: dict[str, Any] = response.json()
        return found if response.status_code == 200 and found["accrued"] == 101.64 else None

    await wait_until(accrued, message="the PTO accrual timer")
    shift = await post_ok(
        client,
        "/staffing/sites/north/roster",
        {"shift_id": "s1", "employee_id": "e1", "date": MONDAY, "template_id": "day"},
    )
    employee = token_for("staff", sites=["north"], sub="e1")
    colleague = token_for("staff", sites=["north"], sub="e2")
    body = {"kind": "pto", "start": f"{MONDAY}T00:00:00-05:00", "end": "2026-12-08T00:00:00-05:00"}
    response = await client.post("/staffing/employees/e1/time-off", json=body, headers=colleague)
    assert response.status_code == 403
    asked = await client.post(
        "/staffing/employees/e1/time-off", json={**body, "request_id": "r1"}, headers=employee
    )
    assert asked.status_code == 201, asked.text
    # Beyond the balance (101.64 h less the 8 h pending): 409, nothing written.
    stream = streams.time_off("acme", "e1")
    before = await version(suite, stream)
    too_much = {
        **body,
        "start": "2026-12-14T00:00:00Z",
        "end": "2026-12-30T00:00:00Z",
        "hours": 100,
    }
    response = await client.post("/staffing/employees/e1/time-off", json=too_much, headers=employee)
    assert response.status_code == 409
    assert "does not cover 100.0 h" in response.json()["detail"]
    assert await version(suite, stream) == before

    other_manager = token_for("manager", sites=["north"], sub="m2")
    elsewhere = token_for("manager", sites=["south"], sub="m1")
    for outsider in (other_manager, elsewhere, employee):
        response = await client.post("/staffing/time-off/r1/approve", headers=outsider)
        assert response.status_code == 403, response.text
    manager = token_for("manager", sites=["north"], sub="m1")
    approved = await client.post("/staffing/time-off/r1/approve", headers=manager)
    assert approved.status_code == 200, approved.text
    # Approving unassigned the day's shift: the roster has a hole where it was.
    shown = await roster(client, approved.json())
    assert shown["days"][0]["shifts"] == []
    assert shift["stream"] == approved.json()["stream"]
    response = await client.post(
        "/staffing/time-off/r1/deny", json={"reason": "late"}, headers=manager
    )
    assert response.status_code == 409  # already approved
    response = await client.post(
        "/staffing/sites/north/roster",
        json={"employee_id": "e1", "date": MONDAY, "template_id": "day"},
    )
    assert response.status_code == 409  # approved time off

    balance = await client.get(
        "/staffing/employees/e1/pto", params={"as_of": "2026-12-31"}, headers=employee
    )
    assert balance.status_code == 200, balance.text
    assert {k: balance.json()[k] for k in ("accrued", "taken", "balance", "available")} == {
        "accrued": 101.64,
        "taken": 8.0,
        "balance": 93.64,
        "available": 93.64,
    }
    response = await client.post("/staffing/time-off/r1/cancel", headers=colleague)
    assert response.status_code == 403
    response = await client.post("/staffing/time-off/r1/cancel", headers=employee)
    assert response.status_code == 200, response.text

    async def listed() -> list[dict[str, Any]] | None:
        response = await client.get("/staffing/sites/north/pto-balances", headers=manager)
        employees: list[dict[str, Any]] = response.json()["employees"]
        return employees if employees and employees[0]["approved"] == 0 else None

    rows = await wait_until(listed, message="the site's PTO balances")
    assert rows is not None
    (row,) = rows
    assert (row["employee_id"], row["accrued"], row["balance"]) == ("e1", 101.64, 101.64)


async def test_hr_decides_and_unknown_requests_are_404(
    client: httpx.AsyncClient, suite: Suite, token_for: TokenFor
) -> None:
    await hire(suite, "e1", manager_id=None)
    hr = token_for("hr", sub="hr-1")
    body = {
        "request_id": "r1",
        "kind": "sick",
        "start": "2026-12-07T13:00:00Z",
        "end": "2026-12-07T21:00:00Z",
    }
    response = await client.post("/staffing/employees/e1/time-off", json=body, headers=hr)
    assert response.status_code == 201, response.text
    response = await client.post("/staffing/time-off/r1/deny", json={"reason": "no"}, headers=hr)
    assert response.status_code == 200, response.text
    response = await client.post("/staffing/time-off/r1/approve", headers=hr)
    assert response.status_code == 409
    response = await client.post("/staffing/time-off/nope/approve", headers=hr)
    assert response.status_code == 404
    # A request id is the tenant's: another employee's request cannot take it.
    await hire(suite, "e2", manager_id=None)
    response = await client.post("/staffing/employees/e2/time-off", json=body, headers=hr)
    assert response.status_code == 409
    assert "another employee's" in response.json()["detail"]
    bad = {**body, "request_id": "r2", "end": "2026-12-07T12:00:00Z"}
    response = await client.post("/staffing/employees/e1/time-off", json=bad, headers=hr)
    assert response.status_code == 422
    response = await client.post(
        "/staffing/employees/ghost/time-off", json={**body, "request_id": "r3"}, headers=hr
    )
    assert response.status_code == 404
    assert await version(suite, streams.time_off("acme", "e1")) == 2


async def test_a_roster_read_after_a_version_the_stream_lacks_is_a_422_at_once(
    client: httpx.AsyncClient,
) -> None:
    await site(client)
    response = await client.put("/staffing/sites/north", json={"time_zone": "UTC"})
    stream, head = response.json()["stream"], response.json()["stream_version"]
    params = {"week": WEEK, "after_stream": stream, "after_version": str(head + 1)}
    response = await client.get("/staffing/sites/north/roster", params=params)
    assert response.status_code == 422, response.text
    assert f"after_version {head + 1} does not exist" in response.json()["detail"]
    params["after_stream"] = "acme:site-day:north:2026-12-07"
    response = await client.get("/staffing/sites/north/roster", params=params)
    assert response.status_code == 400
    shown = await roster(client, {"stream": stream, "stream_version": head})
    assert shown["time_zone"] == "UTC"
