"""No provider and no room is ever double-booked, with four server processes racing.

Four `medoffice serve` processes share one set of backends: Kafka + MongoDB-wire (FerretDB)
for scale-out, and one SQLite data directory for embedded (SQLite's write lock and BEGIN
IMMEDIATE serialise appends across processes, and the embedded bus is a shared SQLite log).
Forty booking requests are fired at once, spread over the four processes:

- all for one provider at one time: exactly one 201, every other a 409;
- two providers, one room, one time: exactly one 201;
- overlapping (not identical) intervals for two providers and two rooms, some naming a room,
  some letting the booking choose: whatever succeeds never overlaps.

Then the front desk's board of each day, read after the last successful booking's version,
must hold exactly the appointments that were answered 201, and no provider and no room holds
two overlapping appointments there (nor in the providers' day schedules).

On FerretDB 1.24 a conditional update is not atomic across connections; the event store
relies on a unique index alone, and this is what the race checks.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.scheduling.domain.site_day import HOLDING
from shared.backends import SUITE_DATABASES
from shared.settings import Settings
from tests.api.staffing_helpers import hire_bookable
from tests.integration.servers import Server
from tests.support import drop_test_data

PROCESSES = 4
REQUESTS = 40
ZONE_NAME, ZONE = "America/New_York", "-05:00"  # its offset in winter
SITE, VISIT = "north", "follow-up"
ROOMS = ("exam-1", "exam-2")
PROVIDERS = ("dr-a", "dr-b")
WEEKDAYS_8_TO_5 = [{"weekday": d, "start": "08:00", "end": "17:00"} for d in range(5)]


@pytest.fixture
async def servers(settings: Settings, tmp_path: Path) -> AsyncIterator[list[Server]]:
    group = [Server(settings, tmp_path, f"server-{n}") for n in range(PROCESSES)]
    try:
        for server in group:
            server.start()
        await asyncio.gather(*(server.ready(timeout=90) for server in group))
        yield group
    finally:
        for server in group:
            await server.close()
        await drop_test_data(settings, {f"{settings.mongo_database}_{s}" for s in SUITE_DATABASES})


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def set_up_clinic(server: Server) -> None:
    """One site, two exam rooms, two bookable providers, a 30-minute visit in an exam room,
    and the patients who book."""
    c = server.client
    await post(c, "/scheduling/sites", {"site_id": SITE, "name": "North", "time_zone": ZONE_NAME})
    for room in ROOMS:
        await post(c, f"/scheduling/sites/{SITE}/rooms", {"room_id": room, "name": room})
    await post(
        c,
        "/scheduling/visit-types",
        {"visit_type_id": VISIT, "name": "Follow-up", "duration_minutes": 30},
    )
    for provider in PROVIDERS:
        await hire_bookable(c, provider, [SITE], name=provider)
        await post(
            c,
            f"/scheduling/providers/{provider}/availability",
            {"site_id": SITE, "windows": WEEKDAYS_8_TO_5, "effective_from": "2026-01-01"},
        )
    for n in range(REQUESTS):  # the patients the racing bookings name
        body = {"patient_id": f"pat-{n}", "name": f"Patient {n}", "birth_date": "1970-01-01"}
        await post(c, "/scheduling/patients", body)


def at(day: str, clock: str) -> str:
    return f"{day}T{clock}:00{ZONE}"


Answer = tuple[dict[str, Any], httpx.Response]  # a booking request and its response


async def race(servers: list[Server], bodies: list[dict[str, Any]]) -> list[Answer]:
    """Send every booking at once, request n to server n mod 4."""
    start = asyncio.Event()

    async def book(n: int, body: dict[str, Any]) -> httpx.Response:
        await start.wait()
        return await servers[n % len(servers)].client.post("/scheduling/appointments", json=body)

    tasks = [asyncio.create_task(book(n, body)) for n, body in enumerate(bodies)]
    await asyncio.sleep(0)  # every task is waiting on the start
    start.set()
    return list(zip(bodies, await asyncio.gather(*tasks), strict=True))


def outcomes(answers: list[Answer]) -> tuple[list[dict[str, Any]], list[int]]:
    """The successful bookings (request fields, and the 201's id, stream and version), and the
    status of every other answer, each of which must be a 409."""
    booked = [{**body, **r.json()} for body, r in answers if r.status_code == 201]
    others = [r.status_code for _, r in answers if r.status_code != 201]
    unexpected = [r.text for _, r in answers if r.status_code not in (201, 409)]
    assert not unexpected, unexpected
    for _, r in answers:
        if r.status_code == 409:
            assert r.headers["content-type"].startswith("application/problem+json")
    return booked, others


def held(appointments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in appointments if a["status"] in HOLDING]


def assert_no_overlap(appointments: list[dict[str, Any]], key: str) -> None:
    by_key: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for a in held(appointments):
        if a.get(key) is None:
            continue
        interval = (
            datetime.fromisoformat(a["start"]),
            datetime.fromisoformat(a["end"]),
            a["appointment_id"],
        )
        by_key.setdefault(a[key], []).append(interval)
    for owner, intervals in by_key.items():
        intervals.sort()
        for (_, end, first), (start, _, second) in zip(intervals, intervals[1:], strict=False):
            assert end <= start, f"{key} {owner} double-booked: {first} and {second}"


async def board_after(server: Server, day: str, booked: list[dict[str, Any]]) -> dict[str, Any]:
    """The site's board of `day`, once it has seen every successful booking."""
    version = max(b["stream_version"] for b in booked)
    response = await server.client.get(
        f"/scheduling/sites/{SITE}/board/{day}", params={"after_version": version}
    )
    assert response.status_code == 200, response.text
    board: dict[str, Any] = response.json()
    return board


async def check_day(servers: list[Server], day: str, booked: list[dict[str, Any]]) -> None:
    """Every process's read models agree: exactly the 201s are held, and nothing overlaps."""
    assert booked, f"no booking succeeded on {day}"
    assert len({b["stream"] for b in booked}) == 1, "one site-day stream decides the day"
    for server in servers:
        board = await board_after(server, day, booked)
        assert {a["appointment_id"] for a in held(board["appointments"])} == {
            b["id"] for b in booked
        }
        assert_no_overlap(board["appointments"], "provider_id")
        assert_no_overlap(board["appointments"], "room_id")
    for provider in PROVIDERS:
        theirs = [b for b in booked if b["provider_id"] == provider]
        params = {}
        if theirs:  # wait until the schedule has seen the provider's last booking
            last = max(b["stream_version"] for b in theirs)
            params = {"after_stream": theirs[0]["stream"], "after_version": last}
        schedule = await servers[0].client.get(
            f"/scheduling/providers/{provider}/schedule/{day}", params=params
        )
        assert schedule.status_code == 200, schedule.text
        appointments = schedule.json()["appointments"]
        assert {a["appointment_id"] for a in held(appointments)} == {b["id"] for b in theirs}
        assert_no_overlap(appointments, "provider_id")


def booking(n: int, **fields: Any) -> dict[str, Any]:
    return {"patient_id": f"pat-{n}", "site_id": SITE, "visit_type_id": VISIT, **fields}


async def test_racing_bookings_on_four_processes_never_double_book(
    servers: list[Server],
) -> None:
    await set_up_clinic(servers[0])

    # (a) Forty requests for one provider's one slot: one wins.
    day = "2027-03-01"
    same = [booking(n, provider_id="dr-a", start=at(day, "09:00")) for n in range(REQUESTS)]
    booked, others = outcomes(await race(servers, same))
    assert len(booked) == 1, booked
    assert others == [409] * (REQUESTS - 1)
    await check_day(servers, day, booked)

    # (b) Two providers, one room, one time: the room goes once.
    day = "2027-03-02"
    room = [
        booking(n, provider_id=PROVIDERS[n % 2], room_id="exam-1", start=at(day, "09:00"))
        for n in range(REQUESTS)
    ]
    booked, others = outcomes(await race(servers, room))
    assert len(booked) == 1, booked
    assert others == [409] * (REQUESTS - 1)
    await check_day(servers, day, booked)

    # (c) Overlapping intervals of 15 to 45 minutes from 9:00 to 10:50, two providers, a room
    # named or chosen by the booking.
    day = "2027-03-03"
    rng = random.Random(2027)
    nine = datetime.fromisoformat(at(day, "09:00"))
    mixed = []
    for n in range(REQUESTS):
        start = nine + timedelta(minutes=5 * rng.randrange(23))
        end = start + timedelta(minutes=rng.choice((15, 30, 45)))
        mixed.append(
            booking(
                n,
                provider_id=rng.choice(PROVIDERS),
                room_id=rng.choice((*ROOMS, None)),
                start=start.isoformat(),
                end=end.isoformat(),
            )
        )
    booked, others = outcomes(await race(servers, mixed))
    assert others, "some of forty overlapping requests must clash"
    await check_day(servers, day, booked)
