"""Incidents through the HTTP API on both backends: the compliance officer reports privacy,
security and safety incidents and records their steps; the due-soon and overdue list follows
each step; the lifecycle's refusals are 4xx problems; auditors read and change nothing.

Today is the test epoch, 26 Nov 2026.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.suite import Suite
from tests.api.conftest import TokenFor, post_ok
from tests.api.test_bad_input import PROBLEM
from tests.support import wait_until

# Discovered 1 Oct: the risk assessment (and any notification) is due 30 Nov.
LAPTOP = {
    "incident_id": "laptop",
    "kind": "privacy",
    "site_id": "north",
    "title": "Lost laptop",
    "description": "A laptop with the day's schedule was left on a train.",
    "occurred_on": "2026-09-30",
    "discovered_on": "2026-10-01",
}
# Discovered 5 Oct: the investigation was due 19 Nov, overdue by 7 days.
VIALS = {
    "incident_id": "vials",
    "kind": "safety",
    "site_id": "south",
    "title": "Look-alike vials",
    "description": "Two vials swapped; caught before administration.",
    "discovered_on": "2026-10-05",
}
# Discovered 20 Nov: the risk assessment is due 19 Jan.
PHISH = {
    "incident_id": "phish",
    "kind": "security",
    "site_id": "north",
    "title": "Phishing",
    "description": "A front-desk mailbox answered a phishing mail.",
    "discovered_on": "2026-11-20",
}
BREACH = {
    "assessed_on": "2026-11-10",
    "breach": True,
    "risk": "high",
    "patients_affected": 12,
    "summary": "Unencrypted disk; schedule with names.",
}


@pytest.fixture
def officer(client: httpx.AsyncClient, token_for: TokenFor) -> httpx.AsyncClient:
    client.headers.update(token_for("compliance", sub="officer-1"))
    return client


async def due(
    client: httpx.AsyncClient, want: list[tuple[str, str, str, int]], **params: Any
) -> dict[str, Any]:
    """Wait until the deadlines list is `want`: (incident, task, due on, days left) rows."""

    async def read() -> dict[str, Any] | None:
        response = await client.get("/compliance/incidents/deadlines", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        rows = [
            (r["incident_id"], r["task"], r["due_on"], r["days_left"]) for r in body["deadlines"]
        ]
        return body if rows == want else None

    found = await wait_until(read, message=f"deadlines {params}: {want}")
    assert found is not None
    return found


async def test_incidents_run_their_lifecycles_and_the_deadlines_follow(
    suite: Suite, officer: httpx.AsyncClient
) -> None:
    for incident in (LAPTOP, VIALS, PHISH):
        written = await post_ok(officer, "/compliance/incidents", incident)
        assert written["id"] == incident["incident_id"]

    listed = await due(
        officer,
        [
            ("vials", "investigation", "2026-11-19", -7),
            ("laptop", "risk_assessment", "2026-11-30", 4),
        ],
    )
    assert listed["as_of"] == "2026-11-26"
    assert [r["overdue"] for r in listed["deadlines"]] == [True, False]
    await due(officer, [("laptop", "risk_assessment", "2026-11-30", 4)], site="north")

    # A breach of 12: individuals within 60 days of discovery, HHS in the yearly log.
    await post_ok(officer, "/compliance/incidents/laptop/risk-assessment", BREACH)
    await due(officer, [("laptop", "notify_individuals", "2026-11-30", 4)], site="north")
    await due(
        officer,
        [
            ("laptop", "notify_individuals", "2026-11-30", 4),
            ("phish", "risk_assessment", "2027-01-19", 54),
            ("laptop", "notify_hhs", "2027-03-01", 95),
        ],
        site="north",
        within_days=120,
    )
    early = await officer.post(
        "/compliance/incidents/laptop/closure",
        json={"closed_on": "2026-11-26", "resolution": "Disk wiped remotely."},
    )
    assert early.status_code == 409, early.text
    assert "notify_individuals" in early.json()["detail"]
    media = await officer.post(
        "/compliance/incidents/laptop/notifications",
        json={"recipient": "media", "sent_on": "2026-11-25", "recipients_count": 1},
    )
    assert media.status_code == 409, media.text
    for recipient, count in (("individuals", 12), ("hhs", 1)):
        sent = {"recipient": recipient, "sent_on": "2026-11-25", "recipients_count": count}
        await post_ok(officer, "/compliance/incidents/laptop/notifications", sent)
    closed = await post_ok(
        officer,
        "/compliance/incidents/laptop/closure",
        {"closed_on": "2026-11-26", "resolution": "Disk wiped remotely."},
    )
    assert closed["stream_version"] == 5  # reported, assessed, two notifications, closed
    read = await officer.get(
        "/compliance/incidents/laptop", params={"after_version": closed["stream_version"]}
    )
    assert read.status_code == 200, read.text
    laptop = read.json()
    assert laptop["status"] == "closed"
    assert laptop["deadlines"] == []
    assert laptop["next_due_on"] is None
    assert laptop["assessment"]["patients_affected"] == 12
    assert [n["recipient"] for n in laptop["notifications"]] == ["individuals", "hhs"]
    assert laptop["reported_by"] == "officer-1"
    assert laptop["description"] == LAPTOP["description"]

    # The safety incident is investigated, not assessed, then closed.
    assessed = await officer.post("/compliance/incidents/vials/risk-assessment", json=BREACH)
    assert assessed.status_code == 422, assessed.text
    investigation = {
        "investigated_on": "2026-11-24",
        "harm": "none",
        "root_cause": "Look-alike packaging stored side by side.",
        "actions": ["Store apart", "Label shelves"],
    }
    await post_ok(officer, "/compliance/incidents/vials/investigation", investigation)
    await post_ok(
        officer,
        "/compliance/incidents/vials/closure",
        {"closed_on": "2026-11-26", "resolution": "Storage changed."},
    )
    await due(officer, [], within_days=14)

    async def open_ones() -> list[str] | None:
        found = await officer.get("/compliance/incidents", params={"status": "open"})
        assert found.status_code == 200, found.text
        ids = [i["incident_id"] for i in found.json()]
        return ids if ids == ["phish"] else None

    await wait_until(open_ones, message="only the phishing incident open")
    every = (await officer.get("/compliance/incidents")).json()
    assert [i["incident_id"] for i in every] == ["phish", "vials", "laptop"]  # latest first
    assert "description" not in every[0]


async def test_illegal_steps_and_bad_input_are_problems(
    suite: Suite, officer: httpx.AsyncClient
) -> None:
    await post_ok(officer, "/compliance/incidents", LAPTOP)
    at = "/compliance/incidents"
    laptop = f"{at}/laptop"
    sent = {"recipient": "individuals", "sent_on": "2026-11-25", "recipients_count": 1}
    investigated = {"investigated_on": "2026-11-24", "harm": "none", "root_cause": "x"}
    refusals: list[tuple[str, dict[str, Any], int]] = [
        (at, LAPTOP, 409),  # the id is taken
        (at, dict(PHISH, kind="fire"), 422),
        (at, dict(PHISH, discovered_on="2026-11-30"), 422),  # after today
        (at, dict(PHISH, occurred_on="2026-11-21"), 422),  # after its discovery
        (at, dict(PHISH, surprise=1), 422),
        (f"{at}/nope/risk-assessment", BREACH, 404),
        (f"{laptop}/risk-assessment", dict(BREACH, assessed_on="2026-09-01"), 422),
        (f"{laptop}/risk-assessment", dict(BREACH, patients_affected=-1), 422),
        (f"{laptop}/notifications", sent, 409),  # not assessed yet
        (f"{laptop}/investigation", dict(investigated, actions=["y"]), 422),  # not safety
        (f"{laptop}/investigation", investigated, 422),  # no actions
        (f"{laptop}/closure", {"closed_on": "2026-11-26", "resolution": "x"}, 409),  # owes
    ]
    for path, body, status in refusals:
        response = await officer.post(path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["content-type"] == PROBLEM
    for params in ({"kind": "fire"}, {"status": "lost"}, {"site": "no such site!"}):
        listed = await officer.get("/compliance/incidents", params=params)
        assert listed.status_code == 422, listed.text
    wide = await officer.get("/compliance/incidents/deadlines", params={"within_days": 1000})
    assert wide.status_code == 422, wide.text
    missing = await officer.get("/compliance/incidents/nope")
    assert missing.status_code == 404, missing.text
    assert missing.headers["content-type"] == PROBLEM


async def test_the_officer_manages_incidents_and_auditors_only_read(
    suite: Suite, client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    for role in ("auditor", "manager", "staff", "hr"):
        refused = await client.post(
            "/compliance/incidents", json=LAPTOP, headers=token_for(role, sites=["north"])
        )
        assert refused.status_code == 403, (role, refused.text)
    officer = token_for("compliance")
    reported = await client.post("/compliance/incidents", json=LAPTOP, headers=officer)
    assert reported.status_code == 201, reported.text
    auditor = token_for("auditor")
    step = await client.post(
        "/compliance/incidents/laptop/risk-assessment", json=BREACH, headers=auditor
    )
    assert step.status_code == 403, step.text
    for path in ("/compliance/incidents", "/compliance/incidents/deadlines"):
        assert (await client.get(path, headers=auditor)).status_code == 200
        manager = token_for("manager", sites=["north"])
        assert (await client.get(path, headers=manager)).status_code == 403
    # Another tenant sees none of them.
    other = token_for("compliance", tenant="globex")
    assert (await client.get("/compliance/incidents", headers=other)).json() == []
