"""Policies through the HTTP API on both backends: the compliance officer publishes versioned
policies and reminds who owes them, employees acknowledge them on their own tokens, the
overdue list per site (staff, roles and sites learnt from staffing's events), the lifecycle's
refusals, who may do what, and the policy events published on compliance's topic (so audited
and chained) while the ledger's blocks stay in its store.

Employees are hired by writing staffing's contract events to their streams as they are (`hire`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from services.staffing.domain.events import EmployeeTerminated
from services.suite import Suite
from tests.api.conftest import TokenFor, post_ok
from tests.api.test_bad_input import PROBLEM
from tests.api.test_staffing_training import hire, record
from tests.support import wait_until

# Effective 1 Nov, 10 days to acknowledge: overdue on the test epoch (26 Nov 2026).
CONDUCT = {
    "policy_id": "conduct",
    "title": "Code of conduct",
    "body": "Be kind to patients.",
    "effective_on": "2026-11-01",
    "roles": ["nurse"],
    "acknowledge_within_days": 10,
}
# Due 20 Dec: nobody is overdue yet.
FIRE = {
    "policy_id": "fire",
    "title": "Fire safety",
    "document_url": "https://policies.example/fire.pdf",
    "document_sha256": "a" * 64,
    "effective_on": "2026-11-20",
    "site_ids": ["north"],
    "acknowledge_within_days": 30,
}


@pytest.fixture
def officer(client: httpx.AsyncClient, token_for: TokenFor) -> httpx.AsyncClient:
    client.headers.update(token_for("compliance", sub="officer-1"))
    return client


async def overdue_at(
    client: httpx.AsyncClient, site: str, want: list[tuple[str, str, int]]
) -> None:
    """Wait until the site's overdue list is `want`: (policy, employee, version) rows."""

    async def read() -> bool:
        response = await client.get("/compliance/policies/overdue", params={"site": site})
        assert response.status_code == 200, response.text
        rows = [
            (r["policy_id"], r["employee_id"], r["version"]) for r in response.json()["overdue"]
        ]
        return rows == want

    await wait_until(read, message=f"overdue at {site}: {want}")


async def acknowledge(
    client: httpx.AsyncClient, token_for: TokenFor, employee_id: str, policy_id: str, version: int
) -> httpx.Response:
    return await client.post(
        f"/compliance/policies/{policy_id}/acknowledgements",
        json={"version": version},
        headers=token_for("staff", sub=employee_id, sites=["north"]),
    )


async def test_staff_acknowledge_and_the_overdue_list_follows_versions_and_staffing(
    suite: Suite, officer: httpx.AsyncClient, token_for: TokenFor
) -> None:
    await hire(suite, "n1", role="nurse", site="north")
    await hire(suite, "n2", role="nurse", site="north")
    await hire(suite, "f1", role="front_desk", site="north")
    await hire(suite, "s1", role="nurse", site="south")
    written = await post_ok(officer, "/compliance/policies", CONDUCT)
    assert written["id"] == "conduct"
    await post_ok(officer, "/compliance/policies", FIRE)

    read = await officer.get(
        "/compliance/policies/conduct", params={"after_version": written["stream_version"]}
    )
    assert read.status_code == 200, read.text
    assert read.json()["version"] == 1
    assert read.json()["due_on"] == "2026-11-11"
    assert read.json()["body"] == "Be kind to patients."

    # Nurses at north owe the code of conduct; the fire policy is not due; south is apart.
    await overdue_at(officer, "north", [("conduct", "n1", 1), ("conduct", "n2", 1)])
    await overdue_at(officer, "south", [("conduct", "s1", 1)])

    # The officer reminds those who owe it (at one site, or everywhere), once a day each.
    north = await post_ok(officer, "/compliance/policies/conduct/reminders", {"site_id": "north"})
    assert north["reminded"] == ["n1", "n2"]
    everywhere = await post_ok(officer, "/compliance/policies/conduct/reminders", {})
    assert everywhere["reminded"] == ["s1"]
    repeated = await post_ok(officer, "/compliance/policies/conduct/reminders", {})
    assert repeated["reminded"] == []
    assert repeated["stream_version"] == everywhere["stream_version"]  # nothing recorded

    async def reminded_on() -> bool:
        response = await officer.get("/compliance/policies/overdue", params={"site": "north"})
        rows = response.json()["overdue"]
        return [r["last_reminded_on"] for r in rows] == ["2026-11-26", "2026-11-26"]

    await wait_until(reminded_on, message="the reminders in the overdue list")

    acked = await acknowledge(officer, token_for, "n1", "conduct", 1)
    assert acked.status_code == 201, acked.text
    again = await acknowledge(officer, token_for, "n1", "conduct", 1)
    assert again.status_code == 201  # once is the record: nothing new
    assert again.json()["stream_version"] == acked.json()["stream_version"]
    await overdue_at(officer, "north", [("conduct", "n2", 1)])

    # A new version binds everyone again; the old one can no longer be acknowledged.
    revised = dict(CONDUCT, effective_on="2026-11-05", body="Be kind to everyone.")
    del revised["policy_id"]
    version = await post_ok(officer, "/compliance/policies/conduct/versions", revised)
    assert version["stream_version"] == 5  # published, reminded twice, acknowledged, published
    await overdue_at(officer, "north", [("conduct", "n1", 2), ("conduct", "n2", 2)])
    stale = await acknowledge(officer, token_for, "n2", "conduct", 1)
    assert stale.status_code == 409, stale.text
    assert stale.headers["content-type"] == PROBLEM

    # Someone who leaves owes nothing any more.
    await record(
        suite, "n2", EmployeeTerminated(employee_id="n2", last_day=date(2026, 11, 20), reason="x")
    )
    await overdue_at(officer, "north", [("conduct", "n1", 2)])

    listed = await officer.get("/compliance/policies")
    assert [(p["policy_id"], p["version"]) for p in listed.json()] == [("conduct", 2), ("fire", 1)]
    assert "body" not in listed.json()[0]


async def test_the_policy_lifecycle_refuses_illegal_steps(
    suite: Suite, officer: httpx.AsyncClient, token_for: TokenFor
) -> None:
    await hire(suite, "n1", role="nurse", site="north")
    await post_ok(officer, "/compliance/policies", CONDUCT)
    taken = await officer.post("/compliance/policies", json=CONDUCT)
    assert taken.status_code == 409, taken.text
    body = {k: v for k, v in CONDUCT.items() if k != "policy_id"}
    unknown = await officer.post("/compliance/policies/nope/versions", json=body)
    assert unknown.status_code == 404, unknown.text
    earlier = await officer.post(
        "/compliance/policies/conduct/versions", json=dict(body, effective_on="2026-10-01")
    )
    assert earlier.status_code == 422, earlier.text
    no_text = {k: v for k, v in body.items() if k != "body"}
    missing = await officer.post("/compliance/policies", json=dict(no_text, policy_id="x"))
    assert missing.status_code == 422, missing.text
    await overdue_at(officer, "north", [("conduct", "n1", 1)])  # n1 is known to compliance
    retirement = {"retired_on": "2026-11-25", "reason": "superseded"}
    await post_ok(officer, "/compliance/policies/conduct/retirement", retirement)
    twice = await officer.post("/compliance/policies/conduct/retirement", json=retirement)
    assert twice.status_code == 409, twice.text
    late = await acknowledge(officer, token_for, "n1", "conduct", 1)
    assert late.status_code == 409, late.text
    reminder = await officer.post("/compliance/policies/conduct/reminders", json={})
    assert reminder.status_code == 409, reminder.text
    unknown_policy = await officer.post("/compliance/policies/nope/reminders", json={})
    assert unknown_policy.status_code == 404, unknown_policy.text
    bad_site = await officer.post("/compliance/policies/x/reminders", json={"site_id": "a b"})
    assert bad_site.status_code == 422, bad_site.text
    await overdue_at(officer, "north", [])  # a retired policy binds no one


async def test_who_may_manage_acknowledge_and_read_policies(
    suite: Suite, client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    await hire(suite, "n1", role="nurse", site="north")
    for role in ("auditor", "manager", "hr", "staff"):
        refused = await client.post(
            "/compliance/policies", json=CONDUCT, headers=token_for(role, sub="n1")
        )
        assert refused.status_code == 403, (role, refused.text)
    officer = token_for("compliance", sub="officer-1")
    assert (await client.post("/compliance/policies", json=CONDUCT, headers=officer)).is_success
    # An acknowledgement is the employee's own: not the officer's, nor a stranger's token.
    by_officer = await client.post(
        "/compliance/policies/conduct/acknowledgements", json={"version": 1}, headers=officer
    )
    assert by_officer.status_code == 403, by_officer.text
    stranger = await acknowledge(client, token_for, "nobody", "conduct", 1)
    assert stranger.status_code == 403, stranger.text
    # Auditors read; a manager reads the overdue list of their own sites only.
    auditor = token_for("auditor", sites=["south"])
    assert (await client.get("/compliance/policies", headers=auditor)).status_code == 200
    north = {"site": "north"}
    assert (
        await client.get("/compliance/policies/overdue", params=north, headers=auditor)
    ).status_code == 200
    south_manager = token_for("manager", sites=["south"])
    assert (
        await client.get("/compliance/policies/overdue", params=north, headers=south_manager)
    ).status_code == 403
    assert (
        await client.get("/compliance/policies", headers=token_for("manager"))
    ).status_code == 403


async def test_policy_events_are_published_audited_and_chained_but_blocks_are_not(
    suite: Suite, officer: httpx.AsyncClient, token_for: TokenFor
) -> None:
    await post_ok(officer, "/compliance/policies", CONDUCT)
    auditor = token_for("auditor")
    published = "medoffice.compliance.PolicyPublished.v1"

    async def audited() -> dict[str, Any] | None:
        response = await officer.get(
            "/compliance/audit-log", params={"type": published}, headers=auditor
        )
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found[0] if found else None

    entry = await wait_until(audited, message="the policy's publication in the audit log")
    assert entry is not None
    assert entry["actor"] == "officer-1"
    assert entry["stream"] == "acme:policy:conduct"

    async def chained() -> bool:
        verdict = await officer.get("/compliance/audit-ledger/verify", headers=auditor)
        assert verdict.status_code == 200, verdict.text
        blocks = await officer.get("/compliance/audit-ledger/blocks", headers=auditor)
        ids = {e["event_id"] for b in blocks.json()["blocks"] for e in b["entries"]}
        return bool(verdict.json()["verified"]) and entry["event_id"] in ids

    await wait_until(chained, message="the policy's publication chained")
    blocks = await officer.get(
        "/compliance/audit-log",
        params={"type": "medoffice.compliance.AuditBlockSealed.v1"},
        headers=auditor,
    )
    assert blocks.json() == []  # the ledger's blocks never reach the bus
