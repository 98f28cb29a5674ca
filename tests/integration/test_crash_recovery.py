"""SIGKILL between append and publish: nothing is lost, nothing is doubled.

The first process runs with the outbox relay off, so a booking is committed to the event store
and never published; then it is killed with SIGKILL. The second process relays it: the read
models show it once, and they equal what a clean rebuild gives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.backends import SUITE_DATABASES
from shared.settings import Settings
from tests.integration.servers import Server
from tests.support import changes, drop_databases, wait_until


@pytest.fixture
async def server(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(settings, tmp_path)
    yield server
    await server.close()
    await drop_databases(settings, {f"{settings.mongo_database}_{s}" for s in SUITE_DATABASES})


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
        "audit": changes((await c.get("/compliance/audit-log", params={"limit": 1000})).json()),
        "sites": (await c.get("/scheduling/sites")).json(),
    }


async def test_a_commit_that_was_never_published_is_relayed_once_after_a_crash(
    server: Server,
) -> None:
    server.start(MEDOFFICE_OUTBOX_RELAY="false")
    await server.ready()
    await post(
        server,
        "/scheduling/sites",
        {"site_id": "north", "name": "North", "time_zone": "America/New_York"},
    )
    await post(
        server,
        "/scheduling/providers",
        {"provider_id": "dr-a", "name": "Dr. A", "site_ids": ["north"]},
    )
    await post(
        server,
        "/scheduling/visit-types",
        {"visit_type_id": "v", "name": "Visit", "duration_minutes": 30, "room_type": None},
    )
    await post(
        server,
        "/scheduling/providers/dr-a/licences",
        {"kind": "state medical licence", "valid_from": "2026-01-01", "valid_until": "2030-12-31"},
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
        return len(entries) == 7

    await wait_until(audited, message="seven audit entries")
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
