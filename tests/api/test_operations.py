"""What an operations engineer relies on: health, readiness, the OpenAPI document, projections."""

from __future__ import annotations

import httpx
import structlog.testing

from tests.api.conftest import TokenFor
from tests.support import wait_until


async def test_health_readiness_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "alive"}
    ready = (await client.get("/ready")).json()
    assert ready["status"] == "ready"
    assert "scheduling.event_store" in ready["checks"]
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/scheduling/appointments" in paths
    assert "/scheduling/providers/{provider_id}/schedule/{day}" in paths
    assert "/compliance/audit-log" in paths


async def test_projections_report_their_lag_and_generation(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: TokenFor
) -> None:
    status = (await client.get("/ops/projections")).json()
    assert {p["name"] for p in status} == {
        "scheduling.appointments",
        "scheduling.provider_schedule",
        "scheduling.directory",
        "scheduling.patients",
        "scheduling.triage_queue",
        "compliance.audit_log",
    }
    assert all(p["generation"] == 1 and p["running"] for p in status)
    refused = await client.get("/ops/projections", headers=token_for("manager"))
    assert refused.status_code == 403


async def test_every_response_carries_a_correlation_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"x-correlation-id": "req-42"})
    assert response.headers["x-correlation-id"] == "req-42"
    assert (await client.get("/health")).headers["x-correlation-id"]


async def test_the_correlation_id_is_recorded_in_the_events_it_caused(
    client: httpx.AsyncClient,
) -> None:
    site = {"site_id": "south", "name": "South", "time_zone": "Europe/Oslo"}
    response = await client.post(
        "/scheduling/sites", json=site, headers={"x-correlation-id": "req-43"}
    )
    assert response.status_code == 201

    async def entry() -> list[dict[str, object]]:
        found: list[dict[str, object]] = (
            await client.get("/compliance/audit-log", params={"subject": "south"})
        ).json()
        return found

    [logged] = await wait_until(entry, message="the audit entry")
    assert logged["correlation_id"] == "req-43"


async def test_changes_only_an_admin_may_make_are_logged(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    site = {"site_id": "east", "name": "East", "time_zone": "UTC"}
    with structlog.testing.capture_logs() as logs:
        await client.post("/scheduling/sites", json=site, headers=token_for("manager"))
        await client.post("/ops/projections/scheduling.directory/rebuild")
    actions = [entry for entry in logs if entry["event"] == "admin_action"]
    assert [(a["method"], a["path"], a["actor"]) for a in actions] == [
        ("POST", "/ops/projections/scheduling.directory/rebuild", "tester")
    ]
