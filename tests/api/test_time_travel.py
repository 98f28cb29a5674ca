"""Read models as of a time: a projection replayed from its events up to T into a scratch
generation, followed as a job, read through the projection's own routes with `?replay=`, then
dropped. What it shows at T is what the live read model showed at T."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from services.suite import Suite
from tests.api.conftest import ShiftedClock, TokenFor, booking, post_ok, register
from tests.support import settled, wait_until

PROBLEM = "application/problem+json"
AUDIT_LOG = "/compliance/audit-log"


async def replay(
    client: httpx.AsyncClient, operator: dict[str, str], projection: str, as_of: datetime
) -> dict[str, Any]:
    """Start a replay of `projection` as of `as_of` and wait until it has finished."""
    started = await client.post(
        f"/ops/projections/{projection}/replays",
        json={"as_of": as_of.isoformat()},
        headers=operator,
    )
    assert started.status_code == 202, started.text
    job: dict[str, Any] = started.json()
    assert job["status"] == "running"
    assert started.headers["location"] == f"/ops/replays/{job['id']}"

    async def finished() -> dict[str, Any] | None:
        status = await client.get(f"/ops/replays/{job['id']}", headers=operator)
        assert status.status_code == 200, status.text
        body: dict[str, Any] = status.json()
        assert body["status"] != "failed", body
        return body if body["status"] == "finished" else None

    done = await wait_until(finished, timeout=60, message=f"the replay of {projection}")
    assert done is not None
    return done


async def test_a_read_model_as_of_t_equals_the_live_one_captured_at_t(
    client: httpx.AsyncClient,
    suite: Suite,
    clinic: dict[str, str],
    clock: ShiftedClock,
    operator: dict[str, str],
    token_for: TokenFor,
) -> None:
    auditor = token_for("auditor")
    await register(client, "pat-1")
    await post_ok(client, "/scheduling/appointments", booking(clinic))
    await settled(suite)
    as_of = clock.now()
    log_then = (await client.get(AUDIT_LOG, params={"limit": 1000}, headers=auditor)).json()
    sites_then = (await client.get("/scheduling/sites")).json()

    # More happens after T: another site, another patient and visit.
    clock.shift += timedelta(minutes=5)
    await post_ok(
        client,
        "/scheduling/sites",
        {"site_id": "south", "name": "South", "time_zone": "America/New_York"},
    )
    await register(client, "pat-2")
    await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="pat-2", start="2026-12-01T10:00:00-05:00"),
    )
    await settled(suite)
    log_now = (await client.get(AUDIT_LOG, params={"limit": 1000}, headers=auditor)).json()
    assert len(log_now) > len(log_then)
    assert len((await client.get("/scheduling/sites")).json()) == len(sites_then) + 1

    audit = await replay(client, operator, "compliance.audit_log", as_of)
    assert audit["events_applied"] == len(log_then)
    assert audit["events_read"] >= len(log_now)
    assert audit["generation"] < 0  # scratch: never a live generation
    params = {"limit": 1000, "replay": audit["id"]}
    replayed = await client.get(AUDIT_LOG, params=params, headers=auditor)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == log_then

    directory = await replay(client, operator, "scheduling.directory", as_of)
    sites = await client.get("/scheduling/sites", params={"replay": directory["id"]})
    assert sites.json() == sites_then
    # The live read models are untouched.
    assert (await client.get(AUDIT_LOG, params={"limit": 1000}, headers=auditor)).json() == (
        log_now
    )

    # A route of another projection does not read this replay.
    elsewhere = await client.get("/scheduling/sites", params={"replay": audit["id"]})
    assert elsewhere.status_code == 404
    assert elsewhere.headers["content-type"] == PROBLEM

    dropped = await client.delete(f"/ops/replays/{audit['id']}", headers=operator)
    assert dropped.status_code == 204
    assert (await client.get(f"/ops/replays/{audit['id']}", headers=operator)).status_code == 404
    gone = await client.get(AUDIT_LOG, params=params, headers=auditor)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == PROBLEM
    again = await client.delete(f"/ops/replays/{audit['id']}", headers=operator)
    assert again.status_code == 404


async def test_replays_refuse_what_they_cannot_do(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    clock: ShiftedClock,
    operator: dict[str, str],
    token_for: TokenFor,
) -> None:
    past = {"as_of": (clock.now() - timedelta(days=1)).isoformat()}
    # Only operators start, follow and drop replays: they replay every tenant's events.
    for headers in (token_for("auditor"), token_for("admin")):
        refused = await client.post(
            "/ops/projections/compliance.audit_log/replays", json=past, headers=headers
        )
        assert refused.status_code == 403
    unknown = await client.post("/ops/projections/nothing/replays", json=past, headers=operator)
    assert unknown.status_code == 404
    future = {"as_of": (clock.now() + timedelta(days=1)).isoformat()}
    ahead = await client.post(
        "/ops/projections/compliance.audit_log/replays", json=future, headers=operator
    )
    assert ahead.status_code == 422
    naive = await client.post(
        "/ops/projections/compliance.audit_log/replays",
        json={"as_of": "2026-11-01T00:00:00"},
        headers=operator,
    )
    assert naive.status_code == 422
    # A read naming a replay: a replay id, once, and only on reads.
    for params, status in (
        ({"replay": "../etc"}, 422),
        ({"replay": ["a" * 32, "b" * 32]}, 422),
        ({"replay": "0" * 32}, 404),
    ):
        answer = await client.get("/scheduling/sites", params=params)
        assert answer.status_code == status, (params, answer.text)
        assert answer.headers["content-type"] == PROBLEM
    write = await client.post(
        "/scheduling/sites",
        params={"replay": "0" * 32},
        json={"site_id": "east", "name": "East", "time_zone": "America/New_York"},
    )
    assert write.status_code == 400
    assert (await client.get("/scheduling/sites/east")).status_code == 404


DAY_STREAM = "/scheduling/streams/acme:site-day:north:2026-12-01"


async def test_a_stream_as_of_t_shows_its_events_and_state_then(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    clock: ShiftedClock,
    token_for: TokenFor,
) -> None:
    auditor = token_for("auditor")
    await register(client, "pat-1", "pat-2")
    first = await post_ok(client, "/scheduling/appointments", booking(clinic))
    as_of = clock.now()
    clock.shift += timedelta(minutes=5)
    second = await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="pat-2", start="2026-12-01T10:00:00-05:00"),
    )

    then = await client.get(DAY_STREAM, params={"as_of": as_of.isoformat()}, headers=auditor)
    assert then.status_code == 200, then.text
    body = then.json()
    assert body["version"] == first["stream_version"]
    assert [e["stream_version"] for e in body["events"]] == list(range(1, body["version"] + 1))
    assert all(datetime.fromisoformat(e["time"]) <= as_of for e in body["events"])
    assert body["folded"] is True
    assert first["id"] in str(body["state"])
    assert second["id"] not in str(body["state"])

    now = (await client.get(DAY_STREAM, headers=auditor)).json()
    assert now["version"] == second["stream_version"] > body["version"]
    assert second["id"] in str(now["state"])
    assert now["events"][: len(body["events"])] == body["events"]

    # A kind the service does not fold: its events only.
    unfolded = await client.get("/scheduling/streams/acme:patient:pat-1", headers=auditor)
    assert unfolded.status_code == 200, unfolded.text
    assert unfolded.json()["folded"] is False
    assert unfolded.json()["state"] is None
    assert "Name of pat-1" not in unfolded.text  # PHI stays sealed, as the store holds it

    # Auditors (and admins) of the stream's tenant only; no stream, or another's: 404.
    assert (await client.get(DAY_STREAM, headers=token_for("front_desk"))).status_code == 403
    other = await client.get(DAY_STREAM, headers=token_for("auditor", tenant="globex"))
    assert other.status_code == 404
    missing = await client.get("/scheduling/streams/acme:site-day:north:2031-01-01")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    naive = await client.get(DAY_STREAM, params={"as_of": "2026-12-01T00:00:00"})
    assert naive.status_code == 422
    employee = await client.get("/staffing/streams/acme:employee:dr-a", headers=auditor)
    assert employee.status_code == 200, employee.text
    assert employee.json()["folded"] is True
