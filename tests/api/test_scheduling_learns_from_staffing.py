"""Scheduling learns its providers from staffing's events, over HTTP on both backends: on
Kafka the events cross from staffing's topic to scheduling's reaction. A booking is refused the
day after the licence expires, or from the day it is revoked or fails verification; the visits
already booked from then on are on the site's to-reschedule list."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from services.staffing.contracts import (
    CredentialRevoked,
    CredentialVerified,
    JobChanged,
    ProviderDetailsRecorded,
)
from services.suite import Suite
from tests.api.conftest import TokenFor, post_ok, register
from tests.api.staffing_helpers import hire_provider, record_licence, scheduling_knows
from tests.staffing_events import hired, learnt, licence, record_staffing
from tests.support import ACCESS, wait_until

EXPIRY = date(2026, 12, 15)  # a Tuesday
WEEKDAYS_9_TO_5 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]


async def a_site(client: httpx.AsyncClient) -> None:
    await post_ok(
        client,
        "/scheduling/sites",
        {"site_id": "north", "name": "North", "time_zone": "America/New_York"},
    )
    await post_ok(client, "/scheduling/sites/north/rooms", {"room_id": "exam-1", "name": "Exam 1"})
    await post_ok(
        client,
        "/scheduling/visit-types",
        {"visit_type_id": "follow-up", "name": "Follow-up", "duration_minutes": 30},
    )
    await register(client, "pat-1")


async def a_provider_from_staffing(client: httpx.AsyncClient, suite: Suite) -> None:
    """dr-s, hired by staffing at north with a licence to EXPIRY; weekdays 9 to 5 there."""
    await record_staffing(
        suite, "acme", hired("dr-s", "north"), licence("dr-s", "lic-ny", expires_on=EXPIRY)
    )
    await learnt(scheduling_version(suite), "acme", "dr-s", 2)
    await post_ok(
        client,
        "/scheduling/providers/dr-s/availability",
        {"site_id": "north", "windows": WEEKDAYS_9_TO_5, "effective_from": "2026-01-01"},
    )


def scheduling_version(suite: Suite) -> Any:
    store = suite.service("scheduling").event_store
    assert store is not None
    return store.version


def at(day: int, hour: int) -> str:
    return f"2026-12-{day:02d}T{hour:02d}:00:00-05:00"


async def book(client: httpx.AsyncClient, day: int, hour: int) -> httpx.Response:
    return await client.post(
        "/scheduling/appointments",
        json={
            "patient_id": "pat-1",
            "provider_id": "dr-s",
            "site_id": "north",
            "visit_type_id": "follow-up",
            "start": at(day, hour),
        },
    )


async def test_a_provider_hired_in_staffing_is_refused_the_day_after_the_licence_expires(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await a_site(client)
    await a_provider_from_staffing(client, suite)

    on_expiry = await book(client, 15, 10)
    assert on_expiry.status_code == 201, on_expiry.text
    after = await book(client, 16, 10)
    assert after.status_code == 409
    assert after.headers["content-type"] == "application/problem+json"
    assert "has no licence valid on 2026-12-16" in after.json()["detail"]


@pytest.mark.parametrize(
    "ending",
    [
        CredentialRevoked(
            credential_id="lic-ny",
            employee_id="dr-s",
            effective_on=date(2026, 12, 10),
            reason="board action",
        ),
        CredentialVerified(
            credential_id="lic-ny",
            employee_id="dr-s",
            source="state board website",
            verified_by="hr-1",
            verified_at=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            result="failed",
        ),
    ],
    ids=["revoked", "failed-verification"],
)
async def test_visits_booked_from_the_day_the_licence_ends_are_to_reschedule(
    client: httpx.AsyncClient, suite: Suite, token_for: TokenFor, ending: Any
) -> None:
    await a_site(client)
    await a_provider_from_staffing(client, suite)
    booked = {}
    for day in (9, 10, 11):
        response = await book(client, day, 10)
        assert response.status_code == 201, response.text
        booked[day] = response.json()["id"]

    await record_staffing(suite, "acme", ending)
    version = await learnt(scheduling_version(suite), "acme", "dr-s", 4)  # + the template

    refused = await book(client, 10, 14)
    assert refused.status_code == 409
    assert "has no licence valid on 2026-12-10" in refused.json()["detail"]
    assert (await book(client, 9, 14)).status_code == 201  # the day before: still licensed

    front_desk = token_for("front_desk", sites=["north"])
    path = "/scheduling/sites/north/to-reschedule"
    first = await client.get(
        path,
        params={"after_stream": "acme:provider:dr-s", "after_version": version},
        headers=front_desk,
    )
    assert first.status_code == 200, first.text

    async def listed() -> list[dict[str, Any]] | None:
        # The bookings are on other streams than the provider's: on Kafka, other partitions.
        found: list[dict[str, Any]] = (await client.get(path, headers=front_desk)).json()
        return found if len(found) == 2 else None

    visits = await wait_until(listed, message="both visits on the to-reschedule list")
    assert visits is not None
    assert [(v["appointment_id"], v["date"], v["patient_id"]) for v in visits] == [
        (booked[10], "2026-12-10", "pat-1"),
        (booked[11], "2026-12-11", "pat-1"),
    ]
    assert {v["reason"] for v in visits} == {
        "provider dr-s has no licence valid on 2026-12-10",
        "provider dr-s has no licence valid on 2026-12-11",
    }

    elsewhere = await client.get(path, headers=token_for("front_desk", sites=["south"]))
    assert elsewhere.status_code == 403
    clinician = await client.get(path, headers=token_for("clinician", sites=["north"]))
    assert clinician.status_code == 403
    bad = await client.get(path, params={"after_stream": "acme:site:north", "after_version": 1})
    assert bad.status_code == 400
    beyond = await client.get(
        path, params={"after_stream": "acme:provider:dr-s", "after_version": version + 1}
    )
    assert beyond.status_code == 422
    assert beyond.json()["detail"] == (
        f"stream acme:provider:dr-s is at version {version}; "
        f"after_version {version + 1} does not exist"
    )


async def test_a_cancelled_visit_leaves_the_to_reschedule_list(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await a_site(client)
    await a_provider_from_staffing(client, suite)
    visit = (await book(client, 11, 10)).json()["id"]
    await record_staffing(
        suite,
        "acme",
        CredentialRevoked(
            credential_id="lic-ny", employee_id="dr-s", effective_on=date(2026, 12, 10), reason="x"
        ),
    )
    await learnt(scheduling_version(suite), "acme", "dr-s", 4)
    path = "/scheduling/sites/north/to-reschedule"

    async def listing(count: int) -> Any:
        async def probe() -> bool:
            return len((await client.get(path)).json()) == count

        return await wait_until(probe, message=f"{count} visits to reschedule")

    await listing(1)

    async def disclosed() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await client.get("/compliance/audit-log", params={"subject": "pat-1", "type": ACCESS})
        ).json()
        return [e for e in found if e["data"]["endpoint"] == path]

    await wait_until(disclosed, message="the list's disclosure of pat-1 on the record")
    cancelled = await client.post(
        f"/scheduling/appointments/{visit}/cancel", json={"reason": "provider unavailable"}
    )
    assert cancelled.status_code == 200, cancelled.text
    await listing(0)


async def test_the_provider_listing_follows_staffing(
    client: httpx.AsyncClient, suite: Suite, token_for: TokenFor
) -> None:
    await a_site(client)
    await a_provider_from_staffing(client, suite)
    await record_staffing(
        suite,
        "acme",
        ProviderDetailsRecorded(
            employee_id="dr-s", npi="1234567893", taxonomy_code="207Q00000X", specialty="family"
        ),
        JobChanged(
            employee_id="dr-s",
            title="Physician",
            role="physician",
            site_ids=("south",),
            fte=1.0,
            effective_on=date(2027, 1, 4),
        ),
    )
    await learnt(scheduling_version(suite), "acme", "dr-s", 5)
    south = token_for("front_desk", sites=["south"])

    async def listed() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (
            await client.get("/scheduling/providers", headers=south)
        ).json()
        return found if found else None

    listing = await wait_until(listed, message="dr-s listed at south")
    assert listing is not None
    [provider] = listing
    assert provider["provider_id"] == "dr-s"
    assert provider["site_ids"] == ["north", "south"]
    assert (provider["npi"], provider["specialty"]) == ("1234567893", "family")
    assert "learnt_from" not in provider


async def test_an_employee_moved_into_a_providers_role_becomes_bookable_in_scheduling(
    client: httpx.AsyncClient,
) -> None:
    await a_site(client)
    await hire_provider(client, "np-1", ["north"], name="Pat Nurse", npi=None, role="nurse")
    licence_id = await record_licence(client, "np-1")
    change = {
        "title": "Nurse practitioner",
        "role": "nurse_practitioner",
        "site_ids": ["north"],
        "fte": 1.0,
        "effective_on": "2026-12-01",
    }
    await post_ok(client, "/staffing/employees/np-1/job", change)

    listed = await scheduling_knows(client, "np-1", [licence_id])

    assert (listed["name"], listed["role"], listed["site_ids"]) == (
        "Pat Nurse",
        "nurse_practitioner",
        ["north"],
    )
