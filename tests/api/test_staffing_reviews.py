"""Performance reviews through the HTTP API on both backends: a cycle, an employee's review in
it (reviewed by their manager unless another reviewer is named), its one lifecycle step by
step, each by its own person (403 for anyone else), out of order 409, bad ratings 422, and
none of them writing anything; the cycle's status per employee, as hr and a site's manager see
it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.suite import Suite
from tests.api.conftest import TokenFor, post_ok
from tests.api.test_bad_input import PROBLEM
from tests.api.test_staffing_training import events_written, hire

CYCLE = {
    "cycle_id": "2026",
    "name": "Annual review 2026",
    "period_start": "2026-01-01",
    "period_end": "2026-12-31",
    "due_on": "2027-01-31",
    "competencies": ["patient care", "teamwork", "documentation"],
}
RATINGS = {"patient care": 4, "teamwork": 5, "documentation": 3}
MANAGER_REVIEW = {"ratings": RATINGS, "goals": ["Lead the flu clinic"], "summary": "Strong"}


@pytest.fixture
async def staff(client: httpx.AsyncClient, suite: Suite) -> None:
    """A manager and two nurses at north (managed by mgr-1), one nurse at south."""
    await hire(suite, "mgr-1", role="manager", manager=None)
    await hire(suite, "emp-1")
    await hire(suite, "emp-2")
    await hire(suite, "emp-3", site="south", manager="mgr-2")
    await hire(suite, "mgr-2", role="manager", site="south", manager=None)
    await post_ok(client, "/staffing/review-cycles", CYCLE)


async def review_of(
    client: httpx.AsyncClient, review_id: str, done: dict[str, Any], **headers: str
) -> dict[str, Any]:
    params = {"after_stream": done["stream"], "after_version": str(done["stream_version"])}
    response = await client.get(f"/staffing/reviews/{review_id}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_review_from_start_to_acknowledgement(
    client: httpx.AsyncClient, suite: Suite, staff: None, token_for: TokenFor
) -> None:
    employee = token_for("staff", sub="emp-1")
    manager = token_for("manager", sites=["north"], sub="mgr-1")
    started = await post_ok(
        client, "/staffing/review-cycles/2026/reviews", {"employee_id": "emp-1"}
    )
    review_id = started["id"]
    assert started["stream"] == "acme:review:2026:emp-1"
    base = f"/staffing/reviews/{review_id}"

    steps: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
        ("self-assessment", {"summary": "I ran the vaccine drive"}, employee, "self_assessed"),
        ("manager-review", MANAGER_REVIEW, manager, "manager_reviewed"),
        ("sign-off", {}, employee, "manager_reviewed"),
        ("sign-off", {}, manager, "signed_off"),
        ("acknowledgement", {"comment": "Thank you"}, employee, "acknowledged"),
    ]
    for step, body, headers, status in steps:
        response = await client.post(f"{base}/{step}", json=body, headers=headers)
        assert response.status_code == 201, (step, response.text)
        found = await review_of(client, review_id, response.json(), **employee)
        assert found["status"] == status, step

    assert found["reviewer_id"] == "mgr-1"  # the employee's manager
    assert found["manager_review"]["ratings"] == RATINGS
    assert found["manager_review"]["goals"] == ["Lead the flu clinic"]
    assert sorted(found["sign_offs"]) == ["employee", "manager"]
    assert found["acknowledgement"]["comment"] == "Thank you"


async def test_every_step_out_of_order_or_by_the_wrong_person_writes_nothing(
    client: httpx.AsyncClient, suite: Suite, staff: None, token_for: TokenFor
) -> None:
    employee = token_for("staff", sub="emp-1")
    colleague = token_for("staff", sub="emp-2")
    manager = token_for("manager", sites=["north"], sub="mgr-1")
    hr = token_for("hr", sub="hr-1")
    started = await post_ok(
        client, "/staffing/review-cycles/2026/reviews", {"employee_id": "emp-1"}
    )
    base = f"/staffing/reviews/{started['id']}"
    Step = tuple[str, dict[str, Any]]
    self_assessment: Step = ("self-assessment", {"summary": "ok"})
    manager_review: Step = ("manager-review", MANAGER_REVIEW)
    sign_off: Step = ("sign-off", {})
    acknowledgement: Step = ("acknowledgement", {})

    async def refused(
        step: tuple[str, dict[str, Any]], headers: dict[str, str], status: int
    ) -> None:
        before = await events_written(suite)
        response = await client.post(f"{base}/{step[0]}", json=step[1], headers=headers)
        assert response.status_code == status, (step, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert await events_written(suite) == before

    async def take(step: tuple[str, dict[str, Any]], headers: dict[str, str]) -> None:
        response = await client.post(f"{base}/{step[0]}", json=step[1], headers=headers)
        assert response.status_code == 201, (step, response.text)

    # Started: only the self-assessment, only by the employee.
    await refused(manager_review, manager, 409)
    await refused(acknowledgement, employee, 409)
    await refused(sign_off, manager, 409)
    await refused(sign_off, employee, 409)
    await refused(self_assessment, manager, 403)
    await refused(self_assessment, colleague, 403)
    await refused(self_assessment, hr, 403)
    await take(self_assessment, employee)
    # Self-assessed: only the manager review, only by the reviewer.
    await refused(self_assessment, employee, 409)
    await refused(sign_off, employee, 409)
    await refused(acknowledgement, employee, 409)
    await refused(manager_review, employee, 403)
    bad = {**MANAGER_REVIEW, "ratings": {**RATINGS, "teamwork": 6}}
    await refused(("manager-review", bad), manager, 422)
    unknown = {**MANAGER_REVIEW, "ratings": {**RATINGS, "charting": 3}}
    await refused(("manager-review", unknown), manager, 422)
    missing = {**MANAGER_REVIEW, "ratings": {"teamwork": 3}}
    await refused(("manager-review", missing), manager, 422)
    await refused(("manager-review", {**MANAGER_REVIEW, "goals": []}), manager, 422)
    await take(manager_review, manager)
    # Manager reviewed: sign-offs, by the two of them, once each.
    await refused(manager_review, manager, 409)
    await refused(acknowledgement, employee, 409)
    await refused(sign_off, colleague, 403)
    await take(sign_off, manager)
    await refused(sign_off, manager, 409)
    await refused(acknowledgement, employee, 409)
    await take(sign_off, employee)
    # Signed off: the employee acknowledges, once.
    await refused(acknowledgement, manager, 403)
    await take(acknowledgement, employee)
    await refused(acknowledgement, employee, 409)
    await refused(self_assessment, employee, 409)
    await refused(("self-assessment", {"summary": "ok"}), employee, 409)
    response = await client.post("/staffing/reviews/r-404/sign-off", headers=employee)
    assert response.status_code == 404


async def test_starting_a_review_makes_sense(
    client: httpx.AsyncClient, suite: Suite, staff: None, token_for: TokenFor
) -> None:
    path = "/staffing/review-cycles/2026/reviews"
    await post_ok(client, path, {"employee_id": "emp-1", "review_id": "r-1"})
    before = await events_written(suite)
    south = token_for("manager", sites=["south"], sub="mgr-2")
    cases: list[tuple[str, dict[str, Any], dict[str, str], int]] = [
        (path, {"employee_id": "emp-1"}, {}, 409),  # one per employee and cycle
        (path, {"employee_id": "emp-404"}, {}, 404),
        (path, {"employee_id": "mgr-1"}, {}, 422),  # no manager, no reviewer named
        (path, {"employee_id": "emp-2", "reviewer_id": "emp-2"}, {}, 422),
        (path, {"employee_id": "emp-2", "reviewer_id": "nobody"}, {}, 422),
        (path, {"employee_id": "emp-2"}, south, 403),  # another site's manager
        (path, {"employee_id": "emp-2"}, token_for("staff", sub="emp-2"), 403),
        ("/staffing/review-cycles/nope/reviews", {"employee_id": "emp-2"}, {}, 404),
        ("/staffing/review-cycles", CYCLE, {}, 409),
        (
            "/staffing/review-cycles",
            {**CYCLE, "cycle_id": "x", "period_end": "2025-01-01"},
            {},
            422,
        ),
        ("/staffing/review-cycles", {**CYCLE, "cycle_id": "x", "competencies": []}, {}, 422),
        ("/staffing/review-cycles", {**CYCLE, "cycle_id": "y"}, south, 403),
    ]
    for url, body, headers, status in cases:
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert await events_written(suite) == before


async def test_the_cycle_s_status_per_employee(
    client: httpx.AsyncClient, suite: Suite, staff: None, token_for: TokenFor
) -> None:
    path = "/staffing/review-cycles/2026/reviews"
    manager = token_for("manager", sites=["north"], sub="mgr-1")
    south = token_for("manager", sites=["south"], sub="mgr-2")
    await post_ok(client, path, {"employee_id": "emp-1", "review_id": "r-1"})
    await post_ok(client, path, {"employee_id": "emp-2", "review_id": "r-2"})
    last = await post_ok(client, path, {"employee_id": "emp-3", "review_id": "r-3"})
    response = await client.post(
        "/staffing/reviews/r-1/self-assessment",
        json={"summary": "ok"},
        headers=token_for("staff", sub="emp-1"),
    )
    assert response.status_code == 201
    done = response.json()
    await review_of(client, "r-3", last)

    params = {"after_stream": done["stream"], "after_version": str(done["stream_version"])}
    response = await client.get("/staffing/review-cycles/2026", params=params, headers=manager)
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["name"] == "Annual review 2026"
    assert [(r["employee_id"], r["status"]) for r in status["reviews"]] == [
        ("emp-1", "self_assessed"),
        ("emp-2", "started"),
    ]
    assert status["counts"] == {
        "started": 1,
        "self_assessed": 1,
        "manager_reviewed": 0,
        "signed_off": 0,
        "acknowledged": 0,
    }
    everyone = (await client.get("/staffing/review-cycles/2026", headers=token_for("hr"))).json()
    assert [r["employee_id"] for r in everyone["reviews"]] == ["emp-1", "emp-2", "emp-3"]

    # A review: its employee, its reviewer, their site's manager and hr; nobody else.
    assert (await client.get("/staffing/reviews/r-1", headers=south)).status_code == 403
    colleague = token_for("staff", sub="emp-2")
    assert (await client.get("/staffing/reviews/r-1", headers=colleague)).status_code == 403
    assert (await client.get("/staffing/review-cycles/2026", headers=colleague)).status_code == 403
    assert (await client.get("/staffing/reviews/r-1", headers=manager)).status_code == 200
    assert (await client.get("/staffing/reviews/r-404", headers=manager)).status_code == 404
    assert (await client.get("/staffing/review-cycles/nope", headers=manager)).status_code == 404
