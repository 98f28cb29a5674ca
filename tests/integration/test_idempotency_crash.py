"""SIGKILL under keyed booking load: every retry, with its key and body, finds out what
happened to its booking, and nothing is booked twice.

Bookings are sent at once, each with an Idempotency-Key; the server is killed as the first
answer arrives, so others die claimed, some committed and some not. After a restart, each
request is retried with its key until it is answered: a claim left by the dead process is
taken over once its lease (1 s here) has passed, and the run again answers the booking that
committed (the same id) or books it. The answers name exactly the appointments booked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Settings
from tests.api.staffing_helpers import hire_bookable
from tests.integration.servers import Server
from tests.support import drop_test_data, wait_until

SLOTS = 16  # 30-minute visits from 8:00, all on Tuesday 1 December


@pytest.fixture
async def server(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(settings, tmp_path)
    yield server
    await server.close()
    services = ("scheduling", "compliance", "gateway")
    await drop_test_data(settings, {f"{settings.mongo_database}_{s}" for s in services})


async def post(server: Server, path: str, body: dict[str, Any]) -> None:
    response = await server.client.post(path, json=body)
    assert response.status_code == 201, response.text


def booking(n: int) -> dict[str, Any]:
    start = datetime.fromisoformat("2026-12-01T08:00:00-05:00") + timedelta(minutes=30 * n)
    return {
        "patient_id": f"p{n}",
        "provider_id": "dr-a",
        "site_id": "north",
        "visit_type_id": "v",
        "start": start.isoformat(),
    }


async def a_clinic(server: Server) -> None:
    site = {"site_id": "north", "name": "North", "time_zone": "America/New_York"}
    await post(server, "/scheduling/sites", site)
    await hire_bookable(server.client, "dr-a", ["north"], name="Dr. A")
    visit = {"visit_type_id": "v", "name": "Visit", "duration_minutes": 30, "room_type": None}
    await post(server, "/scheduling/visit-types", visit)
    template = {
        "site_id": "north",
        "windows": [{"weekday": 1, "start": "08:00", "end": "17:00"}],
        "effective_from": "2026-01-01",
    }
    await post(server, "/scheduling/providers/dr-a/availability", template)
    for n in range(SLOTS):
        patient = {"patient_id": f"p{n}", "name": f"Patient {n}", "birth_date": "1970-01-01"}
        await post(server, "/scheduling/patients", patient)


def keyed(n: int) -> dict[str, str]:
    return {"idempotency-key": f"booking-{n}"}


async def test_retries_after_a_sigkill_learn_every_booking_and_book_none_twice(
    server: Server,
) -> None:
    server.start()
    await server.ready()
    await a_clinic(server)

    # One open connection per booking first: then they reach the server together.
    await asyncio.gather(*(server.client.get("/health") for _ in range(SLOTS)))
    sent = [
        asyncio.create_task(
            server.client.post("/scheduling/appointments", json=booking(n), headers=keyed(n))
        )
        for n in range(SLOTS)
    ]
    await asyncio.wait(sent, return_when=asyncio.FIRST_COMPLETED)
    server.kill()
    answered_before: dict[int, str] = {}
    for n, task in enumerate(sent):
        try:
            response = await task
        except httpx.TransportError:
            continue
        if response.status_code == 201:
            answered_before[n] = response.json()["id"]
    assert len(answered_before) < SLOTS, "the kill came after every answer: nothing tested"

    server.start(MEDOFFICE_IDEMPOTENCY_LEASE_SECONDS="1")
    await server.ready()
    answers: dict[int, str] = {}
    for n in range(SLOTS):

        async def answered(n: int = n) -> httpx.Response | None:
            retry = await server.client.post(
                "/scheduling/appointments", json=booking(n), headers=keyed(n)
            )
            return None if retry.status_code == 409 and "retry-after" in retry.headers else retry

        retry = await wait_until(answered, timeout=30, message=f"booking {n} to be answered")
        assert retry is not None
        assert retry.status_code == 201, retry.text
        answers[n] = retry.json()["id"]

    assert {n: answers[n] for n in answered_before} == answered_before
    assert len(set(answers.values())) == SLOTS

    async def scheduled() -> list[str] | None:
        day = await server.client.get("/scheduling/providers/dr-a/schedule/2026-12-01")
        ids = [a["appointment_id"] for a in day.json()["appointments"]]
        return ids if len(ids) >= SLOTS else None

    booked = await wait_until(scheduled, timeout=30, message="the schedule to show them")
    assert booked is not None
    assert sorted(booked) == sorted(answers.values())
