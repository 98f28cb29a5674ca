"""Feedback cases over HTTP: the front desk opens a complaint or a compliment (its words sealed),
assigns it and resolves it once; a site's open cases are listed soonest due first, overdue ones
flagged, a page at a time; callers see their sites' cases only; a retried POST with its
Idempotency-Key opens nothing twice; a privacy complaint opens compliance's incident, once,
linked from the case. On both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from services.suite import Suite
from tests.api.conftest import ShiftedClock, TokenFor, post_ok
from tests.support import settled, wait_until

PROBLEM = "application/problem+json"
TODAY = "2026-11-26"  # the test run's clock (tests/support.py TEST_EPOCH)


def complaint(**change: Any) -> dict[str, Any]:
    return {
        "patient_id": "pat-1",
        "site_id": "north",
        "kind": "complaint",
        "summary": "Waited an hour with a broken knee",
        "due_on": "2026-11-30",
        **change,
    }


async def listed(
    client: httpx.AsyncClient, written: dict[str, Any], **params: Any
) -> dict[str, Any]:
    """The site's open cases once the list holds `written` (a write's answer)."""
    response = await client.get(
        "/engagement/cases",
        params={
            "site": "north",
            "after_stream": written["stream"],
            "after_version": written["stream_version"],
            **params,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_front_desk_opens_assigns_and_resolves_a_case_once(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    desk = token_for("front_desk", sites=["north"], sub="desk-1")
    opened = await client.post("/engagement/cases", json=complaint(), headers=desk)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]

    # The patient's words are sealed where they are recorded.
    stream = (await client.get(f"/engagement/streams/{opened.json()['stream']}")).json()
    assert "knee" not in str(stream)

    assigned = await client.post(
        f"/engagement/cases/{case_id}/assignment",
        json={"owner_id": "mgr-1", "due_on": "2026-12-01"},
        headers=desk,
    )
    assert assigned.status_code == 201, assigned.text
    assert assigned.json()["stream_version"] == 2
    resolution = {"resolution": "Apologised; the knee clinic now rooms within 15 minutes"}
    path = f"/engagement/cases/{case_id}/resolution"
    resolved = await client.post(path, json=resolution, headers=desk)
    assert resolved.status_code == 201, resolved.text
    again = await client.post(path, json=resolution, headers=desk)
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == PROBLEM
    moved = await client.post(
        f"/engagement/cases/{case_id}/assignment",
        json={"owner_id": "mgr-2", "due_on": "2026-12-01"},
        headers=desk,
    )
    assert moved.status_code == 409, moved.text

    read = await client.get(f"/engagement/cases/{case_id}", headers=token_for("auditor"))
    assert read.status_code == 200, read.text
    case = read.json()
    assert case["summary"] == "Waited an hour with a broken knee"
    assert case["resolution"] == resolution["resolution"]
    assert (case["kind"], case["source"], case["owner_id"]) == ("complaint", "front_desk", "mgr-1")
    assert (case["due_on"], case["resolved"], case["incident_id"]) == ("2026-12-01", True, None)


async def test_bad_input_is_a_clear_4xx_and_other_sites_cases_are_not_seen(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    desk = token_for("front_desk", sites=["north"])
    for wrong in (
        complaint(kind="grumble"),
        complaint(summary=""),
        complaint(due_on="2026-11-01"),  # in the past
        complaint(due_on="9999-12-31"),
        complaint(patient_id="pat 1"),
        complaint(colour="red"),
    ):
        response = await client.post("/engagement/cases", json=wrong, headers=desk)
        assert response.status_code == 422, (wrong, response.text)
        assert response.headers["content-type"] == PROBLEM
    elsewhere = await client.post(
        "/engagement/cases", json=complaint(site_id="south"), headers=desk
    )
    assert elsewhere.status_code == 403, elsewhere.text
    auditor = await client.post("/engagement/cases", json=complaint(), headers=token_for("auditor"))
    assert auditor.status_code == 403, auditor.text

    south = await post_ok(client, "/engagement/cases", complaint(site_id="south"))
    unowned = await client.post(
        f"/engagement/cases/{south['id']}/resolution", json={"resolution": "Called back"}
    )
    assert unowned.status_code == 409, unowned.text  # nobody owns it yet
    for path, body in (
        (f"/engagement/cases/{south['id']}/assignment", {"owner_id": "m", "due_on": TODAY}),
        (f"/engagement/cases/{south['id']}/resolution", {"resolution": "Called back"}),
        ("/engagement/cases/nope/assignment", {"owner_id": "m", "due_on": TODAY}),
    ):
        refused = await client.post(path, json=body, headers=desk)
        assert refused.status_code == 404, (path, refused.text)
    assert (await client.get(f"/engagement/cases/{south['id']}", headers=desk)).status_code == 404
    bad_list = await client.get("/engagement/cases", params={"site": "south"}, headers=desk)
    assert bad_list.status_code == 403, bad_list.text
    no_site = await client.get("/engagement/cases", headers=desk)
    assert no_site.status_code == 422, no_site.text


async def test_a_sites_open_cases_are_listed_soonest_due_first_overdue_flagged_and_paged(
    client: httpx.AsyncClient, suite: Suite, clock: ShiftedClock, token_for: TokenFor
) -> None:
    later = await post_ok(client, "/engagement/cases", complaint(due_on="2026-12-10"))
    soon = await post_ok(
        client,
        "/engagement/cases",
        complaint(kind="compliment", summary="Kind nurse", due_on=TODAY),
    )
    done = await post_ok(client, "/engagement/cases", complaint(owner_id="mgr-1"))
    await post_ok(client, "/engagement/cases", complaint(site_id="south"))
    resolved = await post_ok(
        client, f"/engagement/cases/{done['id']}/resolution", {"resolution": "Refunded"}
    )
    await listed(client, resolved)
    await listed(client, later)
    first = await listed(client, soon, limit=1)
    assert first["as_of"] == TODAY
    assert [(c["case_id"], c["kind"], c["overdue"]) for c in first["cases"]] == [
        (soon["id"], "compliment", False)
    ]
    assert "summary" not in first["cases"][0]  # the list names cases; one case reads whole
    second = await listed(client, soon, limit=1, cursor=first["next_cursor"])
    assert [c["case_id"] for c in second["cases"]] == [later["id"]]
    third = await listed(client, soon, limit=1, cursor=second["next_cursor"])
    assert third == {"site_id": "north", "as_of": TODAY, "cases": [], "next_cursor": None}

    bad = await client.get("/engagement/cases", params={"site": "north", "cursor": "nonsense"})
    assert bad.status_code == 422, bad.text
    assert bad.headers["content-type"] == PROBLEM

    clock.shift = timedelta(days=1)
    manager = token_for("manager", sites=["north"])
    after = (
        await client.get("/engagement/cases", params={"site": "north"}, headers=manager)
    ).json()
    assert [(c["case_id"], c["overdue"]) for c in after["cases"]] == [
        (soon["id"], True),
        (later["id"], False),
    ]


async def test_a_retried_opening_with_its_idempotency_key_opens_one_case(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    headers = {"idempotency-key": "case-1"}
    first = await client.post("/engagement/cases", json=complaint(), headers=headers)
    retry = await client.post("/engagement/cases", json=complaint(), headers=headers)
    assert first.status_code == retry.status_code == 201, retry.text
    assert retry.json() == first.json()
    listing = await listed(client, first.json())
    assert len(listing["cases"]) == 1


async def test_a_privacy_complaint_opens_compliances_incident_once_linked_from_the_case(
    client: httpx.AsyncClient, suite: Suite, token_for: TokenFor
) -> None:
    desk = token_for("front_desk", sites=["north"])
    body = complaint(kind="privacy_complaint", summary="My results were read out in the lobby")
    opened = await client.post("/engagement/cases", json=body, headers=desk)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    officer = token_for("compliance")

    async def incident() -> dict[str, Any]:
        response = await client.get(f"/compliance/incidents/case-{case_id}", headers=officer)
        found: dict[str, Any] = response.json() if response.status_code == 200 else {}
        return found

    reported = await wait_until(incident, timeout=60, message="compliance's incident")
    assert (reported["kind"], reported["site_id"], reported["case_id"]) == (
        "privacy",
        "north",
        case_id,
    )
    assert reported["discovered_on"] == TODAY
    assert "lobby" not in str(reported)  # the complaint's words stay with engagement

    async def linked() -> str | None:
        case = (await client.get(f"/engagement/cases/{case_id}", headers=desk)).json()
        incident_id: str | None = case["incident_id"]
        return incident_id

    assert await wait_until(linked, timeout=60, message="the case linked") == f"case-{case_id}"
    await settled(suite)
    listing = await listed(client, opened.json())
    assert [c["incident_id"] for c in listing["cases"]] == [f"case-{case_id}"]
    incidents = await client.get("/compliance/incidents", headers=officer)
    assert [i["incident_id"] for i in incidents.json()] == [f"case-{case_id}"]
    case_stream = (await client.get(f"/engagement/streams/{opened.json()['stream']}")).json()
    assert [e["type"].split(".")[2] for e in case_stream["events"]] == [
        "FeedbackCaseOpened",
        "FeedbackCaseIncidentLinked",
    ]
