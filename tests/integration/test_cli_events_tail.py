"""`medoffice events tail` against the suite served for real (`medoffice serve` on a loopback
port): a booking made through the API is printed, the CLI ends after `--count` and the suite
lets go of its watcher; refusals and an unreachable suite give the documented exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.operator_client import EXIT_REFUSED, EXIT_UNREACHABLE
from shared.settings import Settings
from tests.api.staffing_helpers import hire_bookable
from tests.integration.servers import ROOT, Server, free_port, served
from tests.support import wait_until


@pytest.fixture
async def server(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    async with served(settings, tmp_path) as running:
        yield running


def cli(url: str, token: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "services", "events", "tail", "--url", url, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "MEDOFFICE_OPERATOR_TOKEN": token},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def watchers(server: Server) -> float:
    text = (await server.client.get("/metrics")).text
    [line] = [ln for ln in text.splitlines() if ln.startswith("medoffice_tail_watchers ")]
    return float(line.split()[1])


async def post(server: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await server.client.post(path, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def clinic(server: Server) -> None:
    site = {"site_id": "north", "name": "North", "time_zone": "America/New_York"}
    await post(server, "/scheduling/sites", site)
    await hire_bookable(server.client, "dr-a", ["north"], name="Dr. A")
    visit = {"visit_type_id": "v", "name": "Visit", "duration_minutes": 30, "room_type": None}
    await post(server, "/scheduling/visit-types", visit)
    windows = [{"weekday": 1, "start": "08:00", "end": "17:00"}]
    availability = {"site_id": "north", "windows": windows, "effective_from": "2026-01-01"}
    await post(server, "/scheduling/providers/dr-a/availability", availability)
    patient = {"patient_id": "p1", "name": "P", "birth_date": "1970-01-01"}
    await post(server, "/scheduling/patients", patient)


async def test_the_cli_prints_a_booking_as_it_happens_and_says_why_when_refused(
    server: Server,
) -> None:
    """One server for both (starting one is the slow part)."""
    token = server.operator["authorization"].removeprefix("Bearer ")
    url = f"http://127.0.0.1:{server.port}"
    bad = cli(url, token, "--context", "nowhere")
    _, err = bad.communicate(timeout=60)
    assert bad.returncode == EXIT_REFUSED
    assert "422" in err
    assert "nowhere" in err

    admin = server.client.headers["authorization"].removeprefix("Bearer ")
    refused = cli(url, admin, "--count", "1")
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == EXIT_REFUSED
    assert "403" in err

    nobody = cli(f"http://127.0.0.1:{free_port()}", token, "--count", "1")
    _, err = nobody.communicate(timeout=60)
    assert nobody.returncode == EXIT_UNREACHABLE
    assert "cannot reach" in err or "lost" in err

    await clinic(server)
    tail = cli(url, token, "--type", "AppointmentBooked", "--count", "1", "--json")
    try:

        async def following() -> bool:
            return await watchers(server) == 1

        await wait_until(following, timeout=60, message="the CLI watching")
        booking = {
            "patient_id": "p1",
            "provider_id": "dr-a",
            "site_id": "north",
            "visit_type_id": "v",
            "start": "2026-12-01T09:00:00-05:00",
        }
        booked = await post(server, "/scheduling/appointments", booking)
        out, err = tail.communicate(timeout=60)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    assert tail.returncode == 0, err
    [line] = out.splitlines()
    event = json.loads(line)
    assert event["type"] == "medoffice.scheduling.AppointmentBooked.v1"
    assert event["stream"] == booked["stream"]
    assert event["data"]["appointment_id"] == booked["id"]

    async def let_go() -> bool:
        return await watchers(server) == 0

    await wait_until(let_go, message="the suite to let go of the CLI's watch")
