"""Scheduling and compliance built apart (`build_service`, as `medoffice serve scheduling` and
`medoffice serve compliance` build them): each its own backends, HTTP app, routes, checks,
projections, idempotency records and metrics; they meet on the bus only. Staffing is built
apart too: the clinic's provider is hired there, and scheduling learns them over the bus."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from services.suite import Suite, build_service
from shared.cloudevents import Message
from shared.settings import Settings
from tests.api.conftest import TokenFor, booking, post_ok, register
from tests.support import drop_test_data, wait_until


@pytest.fixture
async def apart(settings: Settings) -> AsyncIterator[dict[str, Suite]]:
    suites = {
        name: await build_service(name, settings)
        for name in ("scheduling", "staffing", "compliance")
    }
    for suite in suites.values():
        await suite.start()
    try:
        yield suites
    finally:
        databases: set[str] = set()
        for suite in reversed(suites.values()):
            await suite.stop()
            databases |= suite.backends.databases
        await drop_test_data(settings, databases)


def _client(suite: Suite, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=suite.app)
    return httpx.AsyncClient(
        transport=transport, base_url="http://medoffice", headers=headers, timeout=60
    )


@pytest.fixture
async def client(apart: dict[str, Suite], token_for: TokenFor) -> AsyncIterator[httpx.AsyncClient]:
    """Scheduling's app (the `clinic` fixture sets the clinic up through it)."""
    async with _client(apart["scheduling"], token_for("admin")) as client:
        yield client


@pytest.fixture
async def staffing_client(
    apart: dict[str, Suite], token_for: TokenFor
) -> AsyncIterator[httpx.AsyncClient]:
    """Staffing's app, apart: the `clinic` fixture hires its provider through it."""
    async with _client(apart["staffing"], token_for("admin")) as client:
        yield client


@pytest.fixture
async def compliance(
    apart: dict[str, Suite], token_for: TokenFor
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(apart["compliance"], token_for("auditor")) as client:
        yield client


def sample(exposition: str, metric: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text exposition (0 when absent)."""
    for line in exposition.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match[1] != metric:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[2] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match[3])
    return 0.0


async def test_each_service_serves_only_its_own_routes_checks_and_projections(
    client: httpx.AsyncClient, compliance: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    scheduling_paths = (await client.get("/openapi.json")).json()["paths"]
    compliance_paths = (await compliance.get("/openapi.json")).json()["paths"]
    assert "/scheduling/appointments" in scheduling_paths
    assert not any(p.startswith("/compliance") for p in scheduling_paths)
    assert "/compliance/audit-log" in compliance_paths
    assert not any(p.startswith(("/scheduling", "/fhir")) for p in compliance_paths)
    for paths in (scheduling_paths, compliance_paths):
        assert {"/health", "/ready", "/ops/projections"} <= set(paths)
        assert "/metrics" not in paths  # a scraper's endpoint, not the API's

    for app, own, other in (
        (client, "scheduling", "compliance"),
        (compliance, "compliance", "scheduling"),
    ):
        assert (await app.get("/health")).json() == {"status": "alive"}
        ready = (await app.get("/ready")).json()
        assert ready["status"] == "ready"
        assert f"{own}.event_store" in ready["checks"]
        assert not any(c.startswith(other) for c in ready["checks"])
        projections = (await app.get("/ops/projections", headers=operator)).json()
        assert projections
        assert all(p["name"].startswith(f"{own}.") for p in projections)


async def test_a_booking_in_scheduling_is_audited_and_chained_by_compliance_apart(
    client: httpx.AsyncClient,
    compliance: httpx.AsyncClient,
    clinic: dict[str, str],
    apart: dict[str, Suite],
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))

    async def audited() -> bool:
        entries = (await compliance.get("/compliance/audit-log", params={"limit": 1000})).json()
        return any(e["stream"] == booked["stream"] for e in entries)

    await wait_until(audited, message="the booking in compliance's audit log")
    # The ledger chains every producer's events: scheduling's and staffing's (the hire).
    stores = [apart[name].service(name).event_store for name in ("scheduling", "staffing")]

    async def chained() -> dict[str, object] | None:
        stored = 0
        for store in stores:
            assert store is not None
            stored += sum(len(c.events) for c in await store.read_all(0, 10_000))
        report = (await compliance.get("/compliance/audit-ledger/verify")).json()
        return report if report["entries"] == stored else None

    report = await wait_until(chained, message="every scheduling and staffing event chained")
    assert report is not None
    assert report["verified"] is True, report
    # Compliance opened scheduling's store by name (read-only) for the cross-check.
    assert report["stores"]["scheduling"]["changed"] == []  # type: ignore[index]
    assert report["stores"]["scheduling"]["unchained"] == 0  # type: ignore[index]


async def test_idempotency_records_are_each_services_own(
    client: httpx.AsyncClient, clinic: dict[str, str], apart: dict[str, Suite]
) -> None:
    await register(client, "pat-1")
    keyed = {"idempotency-key": "book-once"}
    first = await client.post("/scheduling/appointments", json=booking(clinic), headers=keyed)
    again = await client.post("/scheduling/appointments", json=booking(clinic), headers=keyed)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    mine = apart["scheduling"].app.state.idempotency
    theirs = apart["compliance"].app.state.idempotency
    assert await mine.find("_idempotency", {})
    assert await theirs.find("_idempotency", {}) == []


async def test_metrics_count_appends_publishes_answers_dead_letters_and_lag(
    client: httpx.AsyncClient,
    compliance: httpx.AsyncClient,
    clinic: dict[str, str],
    apart: dict[str, Suite],
    settings: Settings,
) -> None:
    await register(client, "pat-1")
    await post_ok(client, "/scheduling/appointments", booking(clinic))
    poison = Message(
        topic=settings.topic("scheduling"), key="k", headers={"x": "y"}, value=b"not an event"
    )
    await apart["scheduling"].backends.bus.publish([poison])

    async def settled() -> str | None:
        text = (await compliance.get("/metrics")).text
        caught_up = (
            sample(text, "medoffice_consumer_lag", group="compliance.audit-ledger") == 0
            and sample(text, "medoffice_consumer_lag", group="projection.compliance.audit_log") == 0
        )
        # The audit ledger and each projection of compliance's (a series per group).
        dead = sample(text, "medoffice_dead_letters_total", group="compliance.audit-ledger")
        return text if caught_up and dead >= 1 else None

    exposition = await wait_until(settled, message="compliance to dead-letter the poison")
    assert exposition is not None
    assert "# TYPE medoffice_dead_letters_total counter" in exposition
    audit_log = "projection.compliance.audit_log"  # its generation left out
    assert sample(exposition, "medoffice_dead_letters_total", group=audit_log) >= 1
    assert (
        'medoffice_consumer_lag{group="projection.compliance.audit_log",kind="projection",'
        'service="compliance"} 0'
    ) in exposition
    assert sample(exposition, "medoffice_http_requests_total", method="GET", status="200") >= 1

    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert sample(text, "medoffice_event_store_commits_total", store="scheduling") >= 7
    assert sample(text, "medoffice_bus_published_total", topic=settings.topic("scheduling")) >= 7
    # Site, room, visit type, template, patient, booking (the provider was hired at staffing).
    assert sample(text, "medoffice_http_requests_total", method="POST", status="201") >= 6
    assert 'kind="projection"' in text
    assert sample(text, "medoffice_outbox_backlog", service="scheduling") == 0
    assert "compliance" not in text  # nothing of the other service
