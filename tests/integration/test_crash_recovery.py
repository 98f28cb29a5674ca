"""SIGKILL between append and publish: nothing is lost, nothing is doubled.

A first process sets the clinic up (its provider hired through staffing, which scheduling
learns from staffing's published events). The next runs with the outbox relay off, so a booking
is committed to the event store and never published; then it is killed with SIGKILL. The last
process relays it: the read models show it once, and they equal what a clean rebuild gives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.backends import SUITE_DATABASES
from shared.settings import Settings
from tests.api.staffing_helpers import hire_bookable
from tests.integration.servers import Server
from tests.support import changes, drop_test_data, wait_until


@pytest.fixture
async def server(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(settings, tmp_path)
    yield server
    await server.close()
    await drop_test_data(settings, {f"{settings.mongo_database}_{s}" for s in SUITE_DATABASES})


async def post(server: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await server.client.post(path, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def read_models(server: Server, appointment_id: str) -> dict[str, object]:
    c = server.client
    return {
        "schedule": (await c.get("/scheduling/providers/dr-a/schedule/2026-12-01")).json(),
        "appointment": (await c.get(f"/scheduling/appointments/{appointment_id}")).json(),
        # Compliance's own entries left out: its monitors answer the wall clock (a read of the
        # record at night raises an after-hours alert), so one may land at any moment.
        "audit": [
            e
            for e in changes((await c.get("/compliance/audit-log", params={"limit": 1000})).json())
            if ".compliance." not in str(e["type"])
        ],
        "sites": (await c.get("/scheduling/sites")).json(),
    }


async def test_a_commit_that_was_never_published_is_relayed_once_after_a_crash(
    server: Server,
) -> None:
    server.start()
    await server.ready()
    await post(
        server,
        "/scheduling/sites",
        {"site_id": "north", "name": "North", "time_zone": "America/New_York"},
    )
    await hire_bookable(server.client, "dr-a", ["north"], name="Dr. A")
    await post(
        server,
        "/scheduling/visit-types",
        {"visit_type_id": "v", "name": "Visit", "duration_minutes": 30, "room_type": None},
    )
    await post(
        server,
        "/scheduling/providers/dr-a/availability",
        {
            "site_id": "north",
            "windows": [{"weekday": 1, "start": "08:00", "end": "17:00"}],
            "effective_from": "2026-01-01",
        },
    )
    await post(
        server,
        "/scheduling/patients",
        {"patient_id": "p1", "name": "P", "birth_date": "1970-01-01"},
    )
    server.stop()
    server.start(MEDOFFICE_OUTBOX_RELAY="false")
    await server.ready()
    booked = await post(
        server,
        "/scheduling/appointments",
        {
            "patient_id": "p1",
            "provider_id": "dr-a",
            "site_id": "north",
            "visit_type_id": "v",
            "start": "2026-12-01T09:00:00-05:00",
        },
    )
    server.kill()

    server.start()
    await server.ready()
    schedule = await server.client.get(
        "/scheduling/providers/dr-a/schedule/2026-12-01",
        params={"after_stream": booked["stream"], "after_version": booked["stream_version"]},
    )
    assert schedule.status_code == 200, schedule.text
    assert [a["appointment_id"] for a in schedule.json()["appointments"]] == [booked["id"]]

    async def audited() -> bool:
        entries = changes((await server.client.get("/compliance/audit-log")).json())
        # Scheduling's site, visit type, template, patient and booking, and the three facts it
        # learnt of dr-a from staffing (hired, NPI, licence). Staffing's own entries depend on
        # the wall clock (PTO accrues by its timer), so they are not counted here.
        return len([e for e in entries if ".scheduling." in str(e["type"])]) == 8

    await wait_until(audited, message="scheduling's eight audit entries")
    before = await read_models(server, str(booked["id"]))

    for projection in (
        "scheduling.appointments",
        "scheduling.provider_schedule",
        "scheduling.directory",
        "compliance.audit_log",
    ):
        rebuilt = await server.client.post(
            f"/ops/projections/{projection}/rebuild", headers=server.operator
        )
        assert rebuilt.status_code == 200, rebuilt.text

    assert await read_models(server, str(booked["id"])) == before
