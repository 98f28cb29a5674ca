"""Scheduling, staffing and compliance as three real processes (`medoffice serve scheduling`,
`... staffing`, `... compliance`), each on its own loopback port, meeting on the bus only:
scheduling learns the provider staffing hired from staffing's topic.

A booking in one is in the other's audit log and ledger (which verifies, its cross-check
reading scheduling's event store by name); a forgotten patient leaves no plaintext in
compliance's database; compliance killed with SIGKILL and restarted loses nothing: what
happened while it was down arrives after the restart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from shared.clock import SystemClock
from shared.http.identity import mint_token
from shared.http.keep_alive import client_limits
from shared.settings import Settings
from tests.api.staffing_helpers import hire_bookable
from tests.integration.servers import ROOT, Server, free_port
from tests.support import drop_test_data, wait_until

PATIENT = {"patient_id": "pat-zq", "name": "Zebulon Quarrington", "birth_date": "1961-02-03"}
PLAINTEXT = (b"Zebulon", b"Quarrington", b"1961-02-03", b"+1 555 0199")


class ServiceServer(Server):
    """`medoffice serve <service>`: one service alone, on its own port setting."""

    def __init__(self, settings: Settings, tmp_path: Path, service: str, *others: str) -> None:
        super().__init__(settings, tmp_path, name=service)
        self.services = (service, *others)
        # Its own port comes from MEDOFFICE_<SERVICE>_PORT; MEDOFFICE_PORT names another.
        self.env[f"MEDOFFICE_{service.upper()}_PORT"] = str(self.port)
        self.env["MEDOFFICE_PORT"] = str(free_port())

    def start(self, **env: str) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services", "serve", *self.services],
                env={**self.env, **env},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )


@pytest.fixture
async def servers(settings: Settings, tmp_path: Path) -> AsyncIterator[dict[str, ServiceServer]]:
    started = {
        s: ServiceServer(settings, tmp_path, s) for s in ("scheduling", "staffing", "compliance")
    }
    try:
        yield started
    finally:
        for server in started.values():
            await server.close()
        names = ("scheduling", "staffing", "compliance", "compliance_anchors", "keyvault")
        await drop_test_data(settings, {f"{settings.mongo_database}_{n}" for n in names})


def auditor(settings: Settings) -> dict[str, str]:
    token = mint_token(
        settings.jwt_secret,
        issuer=settings.jwt_issuer,
        subject="auditor-1",
        tenant="acme",
        roles=["auditor"],
        sites=None,
        now=SystemClock().now(),
    )
    return {"authorization": f"Bearer {token}"}


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def clinic(client: httpx.AsyncClient, staffing: httpx.AsyncClient) -> None:
    """A clinic at scheduling, its provider hired at staffing (another process) and learnt."""
    site = {"site_id": "north", "name": "North", "time_zone": "America/New_York"}
    await post(client, "/scheduling/sites", site)
    await post(client, "/scheduling/sites/north/rooms", {"room_id": "exam-1", "name": "Exam 1"})
    await hire_bookable(staffing, "dr-a", ["north"], name="Dr. A", timeout=60, scheduling=client)
    visit = {"visit_type_id": "v", "name": "Visit", "duration_minutes": 30}
    await post(client, "/scheduling/visit-types", visit)
    windows = [{"weekday": d, "start": "08:00", "end": "17:00"} for d in range(5)]
    template = {"site_id": "north", "windows": windows, "effective_from": "2026-01-01"}
    await post(client, "/scheduling/providers/dr-a/availability", template)
    await post(client, "/scheduling/patients", {**PATIENT, "phone": "+1 555 0199"})


def appointment(start: str) -> dict[str, str]:
    return {
        "patient_id": "pat-zq",
        "provider_id": "dr-a",
        "site_id": "north",
        "room_id": "exam-1",  # read from its stream: no wait on scheduling's directory
        "visit_type_id": "v",
        "start": start,
    }


async def logged(compliance: Server, headers: dict[str, str], stream: str, type_: str) -> None:
    async def found() -> bool:
        try:
            response = await compliance.client.get(
                "/compliance/audit-log", params={"stream": stream, "limit": 1000}, headers=headers
            )
        except httpx.TransportError:
            return False
        return any(e["type"].endswith(type_) for e in response.json())

    await wait_until(found, timeout=60, interval=0.2, message=f"{type_} in compliance's log")


async def verified(compliance: Server, headers: dict[str, str]) -> dict[str, Any]:
    """The ledger's verdict once every event in scheduling's store is chained."""

    async def complete() -> dict[str, Any] | None:
        response = await compliance.client.get("/compliance/audit-ledger/verify", headers=headers)
        report: dict[str, Any] = response.json()
        done = report["stores"]["scheduling"]["unchained"] == 0 and report["entries"] > 0
        return report if done else None

    report = await wait_until(complete, timeout=60, interval=0.2, message="the ledger complete")
    assert report is not None
    return report


async def compliance_bytes(settings: Settings) -> bytes:
    """Everything compliance has stored, raw: its files or its MongoDB databases."""
    if not settings.scale_out:
        return b"".join(
            p.read_bytes()
            for d in ("compliance", "compliance_anchors")
            for p in sorted((settings.data_dir / d).glob("*"))
            if p.is_file()
        )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    chunks: list[bytes] = []
    try:
        for name in ("compliance", "compliance_anchors"):
            db = client[f"{settings.mongo_database}_{name}"]
            for collection in await db.list_collection_names():
                async for doc in db[collection].find():
                    chunks.append(json.dumps(doc, default=str).encode())
    finally:
        await client.close()
    return b"".join(chunks)


async def test_scheduling_and_compliance_apart_audit_forget_and_survive_a_kill(
    servers: dict[str, ServiceServer], settings: Settings
) -> None:
    scheduling, staffing = servers["scheduling"], servers["staffing"]
    compliance = servers["compliance"]
    for server in servers.values():
        server.start()
    for server in servers.values():
        await server.ready()
    headers = auditor(settings)
    paths = (await scheduling.client.get("/openapi.json")).json()["paths"]
    assert not any(p.startswith("/compliance") for p in paths)
    assert not any(p.startswith("/staffing") for p in paths)
    assert (await compliance.client.get("/scheduling/sites")).status_code == 404
    assert (await staffing.client.get("/scheduling/sites")).status_code == 404

    await clinic(scheduling.client, staffing.client)
    booked = await post(
        scheduling.client, "/scheduling/appointments", appointment("2026-12-01T09:00:00-05:00")
    )
    await logged(compliance, headers, booked["stream"], ".AppointmentBooked.v1")
    report = await verified(compliance, headers)
    assert report["verified"] is True, report
    assert report["stores"]["scheduling"]["changed"] == []
    assert report["stores"]["scheduling"]["missing"] == []

    # Compliance dies; scheduling goes on; what it records meanwhile waits on the bus.
    compliance.kill()
    later = await post(
        scheduling.client, "/scheduling/appointments", appointment("2026-12-02T10:00:00-05:00")
    )
    compliance.start()
    await compliance.ready()
    await logged(compliance, headers, later["stream"], ".AppointmentBooked.v1")
    after_kill = await verified(compliance, headers)
    assert after_kill["verified"] is True, after_kill
    assert after_kill["entries"] > report["entries"]

    forgotten = await scheduling.client.post(
        "/scheduling/patients/pat-zq/forget", json={"reason": "erasure request"}
    )
    assert forgotten.status_code == 200, forgotten.text
    patient = (await scheduling.client.get("/scheduling/patients/pat-zq")).json()
    assert patient["name"] == "[redacted]"
    await logged(compliance, headers, "acme:patient:pat-zq", ".PatientForgotten.v1")
    final = await verified(compliance, headers)
    assert final["verified"] is True, final
    # Compliance shows no PHI at all: its answers and its database hold only digests.
    entries = (
        await compliance.client.get(
            "/compliance/audit-log", params={"limit": 1000}, headers=headers
        )
    ).json()
    [registered] = [e for e in entries if e["type"].endswith(".PatientRegistered.v1")]
    assert "data" not in registered
    assert set(registered["phi"]) >= {"name", "birth_date", "phone"}
    answers = json.dumps(entries).encode()
    stored = await compliance_bytes(settings)
    for plaintext in PLAINTEXT:
        assert plaintext not in answers
        assert plaintext not in stored


async def test_two_services_in_one_process_each_answer_on_their_own_port(
    settings: Settings, tmp_path: Path
) -> None:
    both = ServiceServer(settings, tmp_path, "scheduling", "compliance")
    compliance_port = free_port()
    both.start(MEDOFFICE_COMPLIANCE_PORT=str(compliance_port))
    other = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{compliance_port}", timeout=30, limits=client_limits()
    )
    try:
        await both.ready()

        async def compliance_ready() -> bool:
            try:
                return (await other.get("/ready")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(compliance_ready, timeout=60, message="compliance's port to be ready")
        mine = (await both.client.get("/openapi.json")).json()["paths"]
        theirs = (await other.get("/openapi.json")).json()["paths"]
        assert "/scheduling/appointments" in mine
        assert "/compliance/audit-log" not in mine
        assert "/compliance/audit-log" in theirs
        assert "/scheduling/appointments" not in theirs
        assert "medoffice_http_requests_total" in (await other.get("/metrics")).text
    finally:
        await other.aclose()
        await both.close()
        names = ("scheduling", "compliance", "compliance_anchors", "keyvault")
        await drop_test_data(settings, {f"{settings.mongo_database}_{n}" for n in names})
