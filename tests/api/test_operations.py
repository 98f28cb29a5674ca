"""What an operations engineer relies on: health, readiness, the OpenAPI document, projections."""

from __future__ import annotations

import httpx
import jwt
import pytest
import structlog.testing

from shared.clock import SystemClock
from shared.settings import Settings
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
    client: httpx.AsyncClient, clinic: dict[str, str], operator: dict[str, str]
) -> None:
    status = (await client.get("/ops/projections", headers=operator)).json()
    assert {p["name"] for p in status} == {
        "scheduling.appointments",
        "scheduling.provider_schedule",
        "scheduling.site_board",
        "scheduling.directory",
        "scheduling.patients",
        "scheduling.no_show_rates",
        "scheduling.triage_queue",
        "scheduling.waitlist",
        "scheduling.availability",
        "staffing.credentials",
        "staffing.enrolments",
        "staffing.reviews",
        "staffing.training",
        "staffing.directory",
        "scheduling.to_reschedule",
        "compliance.audit_log",
        "compliance.policies",
        "compliance.incidents",
        "compliance.monitor_watch",
        "compliance.alerts",
        "staffing.roster",
        "staffing.pto",
        "billing.payers",
        "billing.billing_providers",
        "billing.fee_schedules",
        "billing.patient_accounts",
        "billing.rendering_providers",
        "billing.charges",
        "billing.claims",
        "billing.payments",
        "billing.patient_balances",
        "billing.receivables",
        "engagement.contacts",
        "engagement.deliveries",
        "engagement.link_answers",
        "engagement.nps",
        "engagement.kpis",
        "engagement.cases",
        "engagement.recalls",
        "finance.ledger",
    }
    assert all(p["generation"] == 1 and p["running"] for p in status)


async def test_only_platform_operators_reach_ops_and_they_reach_nothing_else(
    client: httpx.AsyncClient, settings: Settings, token_for: TokenFor, operator: dict[str, str]
) -> None:
    for tenant_member in (token_for("admin"), token_for("manager"), token_for("auditor")):
        refused = await client.get("/ops/projections", headers=tenant_member)
        assert refused.status_code == 403
        assert refused.json()["title"] == "Only platform operators may do this"
    rebuild = "/ops/projections/scheduling.directory/rebuild"
    assert (await client.post(rebuild, headers=token_for("admin"))).status_code == 403

    for method, path in (
        ("GET", "/scheduling/sites"),
        ("GET", "/compliance/audit-log"),
        ("GET", "/compliance/audit-ledger/verify"),
        ("POST", "/scheduling/patients/pat-1/forget"),
    ):
        inside = await client.request(method, path, headers=operator, json={"reason": "x"})
        assert inside.status_code == 403, (method, path)
        assert inside.json()["title"] == "Operators act on the platform, not inside a tenant"


@pytest.mark.parametrize(
    "claims",
    [
        {"tenant": "acme", "sites": "*", "roles": ["operator"]},
        {"roles": ["operator", "admin"]},
        {"sites": "*", "roles": ["operator"]},
        {"roles": ["admin"]},
        {"tenant": "platform", "sites": "*", "roles": ["admin"]},
        {"tenant": "platform", "sites": "*", "roles": ["auditor", "front_desk"]},
    ],
    ids=[
        "operator-in-a-tenant",
        "operator-and-admin",
        "operator-with-sites",
        "no-tenant",
        "platform-admin",  # the tenant of what operators did is for its auditors only
        "platform-auditor-and-more",
    ],
)
async def test_tokens_mixing_operator_and_tenant_claims_are_invalid(
    client: httpx.AsyncClient, settings: Settings, claims: dict[str, object]
) -> None:
    now = int(SystemClock().now().timestamp())
    token = jwt.encode(
        {"iss": settings.jwt_issuer, "sub": "mallory", "iat": now, "exp": now + 60, **claims},
        settings.jwt_secret,
        algorithm="HS256",
    )
    headers = {"authorization": f"Bearer {token}"}
    for path in ("/ops/projections", "/scheduling/sites"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"


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
            await client.get(
                "/compliance/audit-log",
                # billing learns the site's time zone too, under the same correlation id
                params={"subject": "south", "type": "medoffice.scheduling.SiteRegistered.v1"},
            )
        ).json()
        return found

    [logged] = await wait_until(entry, message="the audit entry")
    assert logged["correlation_id"] == "req-43"


async def test_changes_only_an_admin_may_make_and_operators_changes_are_logged(
    client: httpx.AsyncClient, token_for: TokenFor, operator: dict[str, str]
) -> None:
    east = {"site_id": "east", "name": "East", "time_zone": "UTC"}
    west = {"site_id": "west", "name": "West", "time_zone": "UTC"}
    with structlog.testing.capture_logs() as logs:
        await client.post("/scheduling/sites", json=east, headers=token_for("manager"))
        await client.post("/scheduling/sites", json=west)  # the client's token: admin only
        rebuilt = await client.post(
            "/ops/projections/scheduling.directory/rebuild", headers=operator
        )
    assert rebuilt.status_code == 200
    admin = [entry for entry in logs if entry["event"] == "admin_action"]
    assert [(a["method"], a["path"], a["actor"], a["tenant"]) for a in admin] == [
        ("POST", "/scheduling/sites", "tester", "acme")
    ]
    ops = [entry for entry in logs if entry["event"] == "operator_action"]
    assert [(o["method"], o["path"], o["actor"]) for o in ops] == [
        ("POST", "/ops/projections/scheduling.directory/rebuild", "ops")
    ]


async def test_an_operators_retried_rebuild_is_answered_once(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    headers = {**operator, "idempotency-key": "rebuild-1"}
    first = await client.post("/ops/projections/scheduling.directory/rebuild", headers=headers)
    again = await client.post("/ops/projections/scheduling.directory/rebuild", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() == {"name": "scheduling.directory", "generation": 2}
