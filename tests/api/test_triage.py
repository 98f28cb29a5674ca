"""Same-day triage through the HTTP API: a site's queue per local day, served by urgency.

The suite's clock stands at 03:30 UTC on 2 December, which is still 1 December in New York,
where the clinic's site is: triage streams and the default queue follow the site's date.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import TokenFor, post_ok, register, running_suite
from tests.api.test_bad_input import PROBLEM, events_written
from tests.support import ACCESS, every_case_holds, settled, wait_until

QUEUE = "/scheduling/sites/north/triage-queue"


class TickingClock:
    """A clock that moves one millisecond per reading, so arrivals are ordered and distinct."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now


@pytest.fixture
async def suite(settings: Settings) -> AsyncIterator[Suite]:
    clock = TickingClock(datetime(2026, 12, 2, 3, 30, tzinfo=UTC))
    async with running_suite(settings, clock) as suite:
        yield suite


async def triage(
    client: httpx.AsyncClient, patient_id: str, urgency: int, **more: Any
) -> dict[str, Any]:
    body = {"patient_id": patient_id, "urgency": urgency, **more}
    return await post_ok(client, "/scheduling/sites/north/triage", body)


async def waiting(
    client: httpx.AsyncClient, count: int, patient: str | None = None, **params: str
) -> list[dict[str, Any]]:
    """The queue once it lists `count` patients (and `patient` among them, if named)."""

    async def read() -> list[dict[str, Any]] | None:
        response = await client.get(QUEUE, params=params)
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["waiting"]
        named = patient is None or patient in {e["patient_id"] for e in entries}
        # Names come from the patients read model, which may trail the queue's.
        known = all(e["patient_name"] is not None for e in entries)
        return entries if len(entries) == count and named and known else None

    found = await wait_until(read, message=f"{count} patients waiting")
    return found or []


async def test_the_queue_is_served_by_urgency_then_arrival(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-a", "pat-b", "pat-c", "pat-d")
    first = await triage(client, "pat-a", 3, chief_complaint="Sprained ankle")
    assert first["stream"] == "acme:triage-day:north:2026-12-01"
    await triage(client, "pat-b", 1, chief_complaint="Chest pain")
    await triage(client, "pat-c", 3)
    await triage(client, "pat-d", 5, triage_id="t-d")

    queue = await waiting(client, 4)

    assert [e["patient_id"] for e in queue] == ["pat-b", "pat-a", "pat-c", "pat-d"]
    b, a, c, d = queue
    assert (b["urgency"], b["chief_complaint"], b["patient_name"]) == (
        1,
        "Chest pain",
        "Name of pat-b",
    )
    assert (a["triage_id"], a["chief_complaint"]) == (first["id"], "Sprained ankle")
    assert (c["chief_complaint"], d["triage_id"]) == ("", "t-d")
    assert a["arrived_at"] < c["arrived_at"]
    listing = (await client.get(QUEUE)).json()
    assert (listing["site_id"], listing["date"]) == ("north", "2026-12-01")
    assert (await client.get(QUEUE, params={"date": "2026-12-02"})).json()["waiting"] == []


async def test_retriage_moves_a_patient_to_their_new_place(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-a", "pat-b")
    await triage(client, "pat-a", 2)
    b = await triage(client, "pat-b", 4)

    moved = await client.post(
        f"/scheduling/sites/north/triage/{b['id']}/retriage", json={"urgency": 1}
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["stream_version"] == 3

    async def b_first() -> bool:
        entries = (await client.get(QUEUE)).json()["waiting"]
        return [e["patient_id"] for e in entries] == ["pat-b", "pat-a"]

    await wait_until(b_first, message="pat-b first in the queue")


async def test_seen_or_left_closes_an_entry_for_good(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-a", "pat-b", "pat-c")
    a = await triage(client, "pat-a", 2)
    b = await triage(client, "pat-b", 3)
    await triage(client, "pat-c", 4)
    entry = "/scheduling/sites/north/triage/{}/{}"

    assert (await client.post(entry.format(a["id"], "seen"))).status_code == 200
    assert (await client.post(entry.format(b["id"], "left"))).status_code == 200
    # Not a count: the queue lists one patient also before the projection saw either change.
    assert [e["patient_id"] for e in await waiting(client, 1, patient="pat-c")] == ["pat-c"]

    for path, body in [
        (entry.format(a["id"], "seen"), None),
        (entry.format(a["id"], "left"), None),
        (entry.format(b["id"], "seen"), None),
        (entry.format(b["id"], "retriage"), {"urgency": 1}),
    ]:
        refused = await client.post(path, json=body)
        assert refused.status_code == 409, (path, refused.text)
        assert refused.headers["content-type"] == PROBLEM
    assert (await client.post(entry.format("nope", "seen"))).status_code == 404

    # Seen earlier today, the patient may come back; waiting already, they may not join twice.
    await triage(client, "pat-a", 1)
    twice = await client.post(
        "/scheduling/sites/north/triage", json={"patient_id": "pat-c", "urgency": 1}
    )
    assert twice.status_code == 409
    assert twice.json()["detail"].startswith("patient pat-c is already waiting")


async def test_reading_the_queue_records_each_waiting_patient(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-a", "pat-b")
    await triage(client, "pat-a", 2)
    await triage(client, "pat-b", 3)
    await waiting(client, 2)
    queue = await client.get(QUEUE, headers={"x-purpose-of-use": "TREAT"})
    assert len(queue.json()["waiting"]) == 2

    async def accesses() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (
            await client.get("/compliance/audit-log", params={"type": ACCESS, "limit": 1000})
        ).json()
        treated = [e for e in found if e["data"]["purpose"] == "TREAT"]
        return treated if len(treated) == 2 else None

    entries = await wait_until(accesses, message="the records of the read")
    assert entries is not None
    assert sorted(e["subject"] for e in entries) == ["pat-a", "pat-b"]
    assert {e["data"]["endpoint"] for e in entries} == {QUEUE}


async def test_the_queue_is_its_sites_and_its_tenants(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: TokenFor
) -> None:
    await register(client, "pat-a", "pat-b")
    own = token_for("front_desk", sites=["north"])
    south = token_for("front_desk", sites=["south"])
    globex = token_for("front_desk", tenant="globex", sites=["north"])
    body = {"patient_id": "pat-a", "urgency": 2}
    triaged = await client.post("/scheduling/sites/north/triage", json=body, headers=own)
    assert triaged.status_code == 201, triaged.text
    await waiting(client, 1)
    seen = f"/scheduling/sites/north/triage/{triaged.json()['id']}/seen"

    assert (await client.get(QUEUE, headers=own)).status_code == 200
    assert (await client.get(QUEUE, headers=south)).status_code == 404
    assert (await client.get(QUEUE, headers=globex)).status_code == 404
    other = {"patient_id": "pat-b", "urgency": 2}
    assert (
        await client.post("/scheduling/sites/north/triage", json=other, headers=south)
    ).status_code == 403
    assert (
        await client.post("/scheduling/sites/north/triage", json=other, headers=globex)
    ).status_code == 404
    assert (await client.post(seen, headers=south)).status_code == 403
    assert (await client.post(seen, headers=globex)).status_code == 404
    biller = token_for("biller", sites=["north"])
    assert (await client.post(seen, headers=biller)).status_code == 403
    assert (await client.post(seen, headers=own)).status_code == 200


BAD_TRIAGES: list[tuple[dict[str, Any], int]] = [
    ({"patient_id": "pat-a", "urgency": 0}, 422),
    ({"patient_id": "pat-a", "urgency": 6}, 422),
    ({"patient_id": "pat-a", "urgency": "2"}, 422),
    ({"patient_id": "pat-a", "urgency": True}, 422),
    ({"patient_id": "pat-a", "urgency": 2.5}, 422),
    ({"patient_id": "pat-a"}, 422),
    ({"patient_id": "pat-a", "urgency": 2, "chief_complaint": "x" * 501}, 422),
    ({"patient_id": "pat-a", "urgency": 2, "arrived_at": "2026-12-01T00:00:00Z"}, 422),
    ({"patient_id": "../x", "urgency": 2}, 422),
    ({"patient_id": "pat-nobody", "urgency": 2}, 404),
    ({"patient_id": "pat-gone", "urgency": 2, "chief_complaint": "x"}, 409),
    ({"patient_id": "pat-gone", "urgency": 2}, 409),
]


async def test_bad_triage_input_is_refused_without_writing(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, "pat-a", "pat-gone")
    forgotten = await client.post("/scheduling/patients/pat-gone/forget", json={"reason": "asked"})
    assert forgotten.status_code == 200

    async def refused(case: tuple[dict[str, Any], int]) -> None:
        body, status = case
        before = await events_written(suite)
        response = await client.post("/scheduling/sites/north/triage", json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        assert "Traceback" not in response.text
        assert await events_written(suite) == before

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(BAD_TRIAGES, refused)


UNKNOWN_AND_BAD: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("POST", "/scheduling/sites/nowhere/triage", {"patient_id": "pat-a", "urgency": 2}, 404),
    ("GET", "/scheduling/sites/nowhere/triage-queue", None, 404),
    ("GET", f"{QUEUE}?date=yesterday", None, 422),
    ("POST", "/scheduling/sites/north/triage/nope/retriage", {"urgency": 9}, 422),
    ("POST", "/scheduling/sites/north/triage/nope/retriage", {"urgency": 2}, 404),
    ("POST", "/scheduling/sites/north/triage/nope/left", None, 404),
]


async def test_unknown_sites_entries_and_bad_dates_are_refused(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, "pat-a")

    async def refused(case: tuple[str, str, dict[str, Any] | None, int]) -> None:
        method, path, body, status = case
        before = await events_written(suite)
        response = await client.request(method, path, json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        assert await events_written(suite) == before

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(UNKNOWN_AND_BAD, refused)
