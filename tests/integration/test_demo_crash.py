"""A SIGKILL in the middle of the first start's demo seeding: the next start finishes it.

A real `medoffice serve` process seeds the demo on a fresh data directory. The test watches
the event store's file from outside and kills the process as soon as the first site is
registered (long before any booking), or as soon as the first booking is made (long before the
last step, triage). A second process on the same data directory must end with the whole demo:
every provider and patient, and each booking once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.demo import PATIENTS, PROVIDERS, SITES, weekdays
from shared.clock import SystemClock
from shared.http.identity import mint_token
from shared.http.keep_alive import client_limits
from shared.settings import Settings
from tests.integration.servers import Server
from tests.support import suite_settings, wait_until

NEW_YORK = ZoneInfo("America/New_York")


def seeded(data_dir: Path) -> dict[str, int]:
    """How many sites, patients and bookings the scheduling event store holds so far."""
    path = data_dir / "scheduling" / "events.db"
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        counts = {}
        for name in ("SiteRegistered", "AppointmentBooked", "PatientTriaged"):
            (counts[name],) = conn.execute(
                "SELECT count(*) FROM commits WHERE instr(events, ?) > 0", (f".{name}.v",)
            ).fetchone()
        return counts
    except sqlite3.OperationalError:  # the schema is being made
        return {}
    finally:
        conn.close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(suite_settings(tmp_path / "data"), tmp_path)
    yield server
    await server.close()


@pytest.mark.parametrize(
    ("kill_at", "not_yet"),
    [("SiteRegistered", "AppointmentBooked"), ("AppointmentBooked", "PatientTriaged")],
)
async def test_a_start_after_a_crash_mid_seed_finishes_the_demo(
    server: Server, tmp_path: Path, kill_at: str, not_yet: str
) -> None:
    data_dir = tmp_path / "data"
    server.start(MEDOFFICE_SEED_DEMO="true")

    async def reached() -> bool:
        assert server.process is not None, "started"
        assert server.process.poll() is None, "the server died"
        return seeded(data_dir).get(kill_at, 0) > 0

    await wait_until(reached, timeout=60, interval=0.002, message=f"the first {kill_at}")
    server.kill()
    at_kill = seeded(data_dir)
    assert at_kill[kill_at] >= 1
    assert at_kill[not_yet] == 0, "killed in the middle of seeding"

    server.start(MEDOFFICE_SEED_DEMO="true")
    await server.ready(timeout=120)
    await check_the_whole_demo(server.client.base_url, Settings())


async def check_the_whole_demo(base_url: httpx.URL, settings: Settings) -> None:
    token = mint_token(
        settings.jwt_secret,
        issuer=settings.jwt_issuer,
        subject="demo-check",
        tenant="demo",
        roles=["admin"],
        sites=None,
        now=SystemClock().now(),
    )
    headers = {"authorization": f"Bearer {token}"}
    now = datetime.now(UTC)
    [last] = weekdays(now, NEW_YORK, -1, 1)
    [next_day] = weekdays(now, NEW_YORK, 1, 1)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=30, limits=client_limits()
    ) as client:

        async def get(path: str, **params: Any) -> Any:
            response = await client.get(path, params=params)
            assert response.status_code == 200, response.text
            return response.json()

        async def directory() -> tuple[int, int] | None:
            sites, providers = await get("/scheduling/sites"), await get("/scheduling/providers")
            found = (len(sites), len(providers))
            return found if found == (len(SITES), len(PROVIDERS)) else None

        await wait_until(directory, message="every site and provider")
        for patient in PATIENTS:
            record = await wait_until(
                lambda p=patient: get(f"/scheduling/patients/{p['patient_id']}"),  # type: ignore[misc]
                message="the patient",
            )
            assert record["name"] == patient["name"]

        async def last_day() -> dict[str, int]:
            board = await get(f"/scheduling/sites/north/board/{last.isoformat()}")
            counts: dict[str, int] = board["counts"]
            return counts if sum(counts.values()) >= 6 else {}

        # Each visit once: a booking made twice would show here as a seventh.
        last_counts = await wait_until(last_day, message="the last weekday's board")
        assert last_counts == {"completed": 2, "no_show": 2, "cancelled": 2}

        async def next_board() -> int:
            board = await get(f"/scheduling/sites/north/board/{next_day.isoformat()}")
            return len(board["appointments"])

        await wait_until(lambda: _is(next_board(), 7), message="the next weekday's board")
        series = await get("/scheduling/patients/demo-patient-4/appointments")
        assert sum(1 for r in series if r.get("series_id")) == 6
        queue = await get("/scheduling/sites/north/triage-queue")
        assert [e["urgency"] for e in queue["waiting"]] == [2, 4]


async def _is(value: Any, expected: int) -> bool:
    return bool(await value == expected)
