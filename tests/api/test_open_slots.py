"""Open-slot search reads availability from a read model: a provider change shows once the
search waits for its version (`after_stream`, `after_version`), and a rebuild of that read model
answers the same."""

from __future__ import annotations

import time
from typing import Any

import httpx

from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import WEEKDAYS_8_TO_5, booking, post_ok, register
from tests.api.staffing_helpers import approve_time_off, hire_bookable, scheduling_learnt
from tests.support import wait_until

FIRST: dict[str, Any] = {
    "site_id": "north",
    "visit_type_id": "follow-up",
    "start": "2026-12-01",
    "end": "2026-12-01",
    "limit": 3,
}


async def starts(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/scheduling/open-slots", params={**FIRST, **params})
    assert response.status_code == 200, response.text
    return [s["start"] for s in response.json()]


async def bookable(client: httpx.AsyncClient) -> list[str]:
    """The clinic's first slots once its room and provider are in the read model."""

    async def three() -> list[str]:
        found = await starts(client)
        return found if len(found) == 3 else []

    return await wait_until(three, message="the clinic's slots")


async def test_time_off_shows_in_a_search_that_waits_for_its_version(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    assert await bookable(client) == [  # 8:00 New York is 13:00 UTC
        "2026-12-01T13:00:00+00:00",
        "2026-12-01T13:15:00+00:00",
        "2026-12-01T13:30:00+00:00",
    ]
    request_id = await approve_time_off(
        client, "dr-a", "2026-12-01T13:00:00Z", "2026-12-01T15:00:00Z"
    )
    off = await scheduling_learnt(suite, "dr-a", "ProviderTimeOffApproved", time_off_id=request_id)
    assert off.stream == "acme:provider:dr-a"

    found = await starts(client, after_stream=off.stream, after_version=off.stream_version)

    assert found == [
        "2026-12-01T15:00:00+00:00",
        "2026-12-01T15:15:00+00:00",
        "2026-12-01T15:30:00+00:00",
    ]


async def test_each_booking_leaves_the_next_search_of_a_day_searched_before(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    """A search keeps what it made of a board and of a provider's day per revision: each
    booking (a new revision of the board) shows in the next search of the same day."""
    first = await bookable(client)
    await register(client, "pat-1", "pat-2")

    async def booked(patient_id: str, start: str) -> list[str]:
        await post_ok(
            client, "/scheduling/appointments", booking(clinic, patient_id=patient_id, start=start)
        )

        async def moved_on() -> list[str]:
            found = await starts(client)
            return found if found[0] != start else []

        return await wait_until(moved_on, message=f"the booking at {start} on the board")

    # The room and dr-a are held from 13:00, then until 14:00.
    after_one = await booked("pat-1", first[0])
    assert after_one == [
        "2026-12-01T13:30:00+00:00",
        "2026-12-01T13:45:00+00:00",
        "2026-12-01T14:00:00+00:00",
    ]
    after_two = await booked("pat-2", after_one[0])
    assert after_two == [
        "2026-12-01T14:00:00+00:00",
        "2026-12-01T14:15:00+00:00",
        "2026-12-01T14:30:00+00:00",
    ]


async def test_a_new_template_shows_at_once_for_one_provider_or_any(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await bookable(client)
    changed = await post_ok(
        client,
        "/scheduling/providers/dr-a/availability",
        {
            "site_id": "north",
            "windows": [{"weekday": 1, "start": "16:00", "end": "17:00"}],
            "effective_from": "2026-12-01",
            "effective_until": "2026-12-01",
        },
    )
    after = {"after_stream": changed["stream"], "after_version": changed["stream_version"]}

    for provider in ({}, {"provider_id": "dr-a"}):
        assert await starts(client, **after, **provider) == [  # 16:00 New York, 21:00 UTC
            "2026-12-01T21:00:00+00:00",
            "2026-12-01T21:15:00+00:00",
            "2026-12-01T21:30:00+00:00",
        ]
    # The day after, the template in force before is back.
    assert (await starts(client, start="2026-12-02", end="2026-12-02"))[0] == (
        "2026-12-02T13:00:00+00:00"
    )


async def test_a_terminated_provider_has_no_slots_once_waited_for(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await bookable(client)
    terminated = await client.post(
        "/staffing/employees/dr-a/termination", json={"last_day": "2026-11-30", "reason": "left"}
    )
    assert terminated.status_code == 201, terminated.text
    gone = await scheduling_learnt(suite, "dr-a", "ProviderTerminated")

    after = {"after_stream": gone.stream, "after_version": gone.stream_version}
    assert await starts(client, **after) == []


async def test_a_change_of_a_provider_elsewhere_is_not_waited_for(
    client: httpx.AsyncClient, clinic: dict[str, str], settings: Settings
) -> None:
    await bookable(client)
    await post_ok(
        client, "/scheduling/sites", {"site_id": "south", "name": "S", "time_zone": "UTC"}
    )
    await hire_bookable(client, "dr-b", ["south"], name="Dr. B")

    began = time.monotonic()
    found = await starts(client, after_stream="acme:provider:dr-b", after_version=1)

    assert found[0] == "2026-12-01T13:00:00+00:00"  # dr-a's, as before
    assert time.monotonic() - began < settings.read_your_writes_timeout / 3


async def test_after_version_needs_a_provider_stream_of_ones_tenant_and_a_version_it_has(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    for stream in ("acme:site-day:north:2026-12-01", "acme:provider:", "globex:provider:dr-a"):
        response = await client.get(
            "/scheduling/open-slots",
            params={**FIRST, "after_stream": stream, "after_version": 1},
        )
        assert response.status_code == 400, (stream, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    beyond = await client.get(
        "/scheduling/open-slots",
        params={**FIRST, "after_stream": "acme:provider:dr-a", "after_version": 99},
    )
    assert beyond.status_code == 422, beyond.text
    assert beyond.json()["detail"] == (
        "stream acme:provider:dr-a is at version 4; after_version 99 does not exist"
    )


async def test_a_rebuilt_availability_read_model_answers_the_same(
    client: httpx.AsyncClient, clinic: dict[str, str], operator: dict[str, str]
) -> None:
    changed = await post_ok(
        client,
        "/scheduling/providers/dr-a/availability",
        {"site_id": "north", "windows": WEEKDAYS_8_TO_5, "effective_from": "2026-12-02"},
    )
    after = {"after_stream": changed["stream"], "after_version": changed["stream_version"]}
    await bookable(client)
    week = {"end": "2026-12-07", "limit": 200}
    before = await starts(client, **week, **after)

    rebuilt = await client.post(
        "/ops/projections/scheduling.availability/rebuild", headers=operator
    )

    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json() == {"name": "scheduling.availability", "generation": 2}
    assert await starts(client, **week, **after) == before
    assert "2026-12-02T21:30:00+00:00" in before  # 16:30 New York, the first day's hours
    assert "2026-12-02T22:00:00+00:00" not in before  # 17:00: the next template's end
