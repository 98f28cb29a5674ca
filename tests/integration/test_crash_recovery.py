"""SIGKILL between append and publish: nothing is lost, nothing is doubled.

The first process runs with the outbox relay off, so a booking is committed to the event store
and never published; then it is killed with SIGKILL. The second process relays it: the read
models show it once, and they equal what a clean rebuild gives.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.clock import SystemClock
from shared.http.identity import mint_operator_token, mint_token
from shared.settings import Settings
from tests.support import changes, drop_databases, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "MEDOFFICE_PORT": str(self.port),
            "MEDOFFICE_DATA_DIR": str(settings.data_dir),
            "MEDOFFICE_SEED_DEMO": "false",
            "MEDOFFICE_TOPIC_NAMESPACE": settings.topic_namespace,
            "MEDOFFICE_MONGO_DATABASE": settings.mongo_database,
            "MEDOFFICE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
            "MEDOFFICE_MONGO_URL": settings.mongo_url or "",
        }
        self.log = tmp_path / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        token = mint_token(
            settings.jwt_secret,
            issuer=settings.jwt_issuer,
            subject="crash-test",
            tenant="acme",
            roles=["admin"],
            sites=None,
            now=SystemClock().now(),
        )
        operator = mint_operator_token(
            settings.jwt_secret, issuer=settings.jwt_issuer, subject="ops", now=SystemClock().now()
        )
        self.operator = {"authorization": f"Bearer {operator}"}
        self.client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )

    def start(self, **env: str) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services", "serve"],
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        async def probe() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                return (await self.client.get("/ready")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(probe, timeout=60, message="the server to be ready")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
async def server(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(settings, tmp_path)
    yield server
    server.stop()
    await server.client.aclose()
    services = ("scheduling", "compliance", "gateway")
    await drop_databases(settings, {f"{settings.mongo_database}_{s}" for s in services})


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
        return len(entries) == 6

    await wait_until(audited, message="six audit entries")
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
