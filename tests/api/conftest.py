"""The whole suite behind an HTTP client, on the embedded backends and on Kafka + MongoDB."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.suite import Suite, build_suite
from shared.clock import Clock, SystemClock
from shared.http.identity import mint_operator_token, mint_token
from shared.settings import Settings
from tests.api.staffing_helpers import hire_bookable
from tests.support import TestRunClock, drop_test_data, stopped_in_time

TokenFor = Callable[..., dict[str, str]]


@contextlib.asynccontextmanager
async def running_suite(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Suite]:
    """A started suite on `clock` (the test run's, if none), stopped and its databases dropped
    after."""
    suite = await build_suite(settings, clock=clock or TestRunClock())
    await suite.start()
    try:
        yield suite
    finally:
        try:
            await stopped_in_time(suite)
        finally:
            await drop_test_data(settings, suite.backends.databases)


ShiftedClock = TestRunClock  # the name the tests that move the clock know it by


@pytest.fixture
def clock() -> ShiftedClock:
    """The suite's clock: the test run's (tests/support.py), which a test may move forward."""
    return ShiftedClock()


@pytest.fixture
async def suite(settings: Settings, clock: ShiftedClock) -> AsyncIterator[Suite]:
    async with running_suite(settings, clock) as suite:
        yield suite


@pytest.fixture
def token_for(settings: Settings) -> TokenFor:
    def headers(
        *roles: str, tenant: str = "acme", sites: list[str] | None = None, sub: str = "tester"
    ) -> dict[str, str]:
        token = mint_token(
            settings.jwt_secret,
            issuer=settings.jwt_issuer,
            subject=sub,
            tenant=tenant,
            roles=list(roles) or ["admin"],
            sites=sites,
            now=SystemClock().now(),
        )
        return {"authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def operator(settings: Settings) -> dict[str, str]:
    """Headers of a platform operator: the only caller /ops/* admits."""
    token = mint_operator_token(
        settings.jwt_secret, issuer=settings.jwt_issuer, subject="ops", now=SystemClock().now()
    )
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
async def client(suite: Suite, token_for: TokenFor) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=suite.app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://medoffice",
        headers=token_for("admin"),
        timeout=60,
    ) as client:
        yield client


async def post_ok(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def staffing_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Who hires through staffing's API: the suite's client (a module with staffing served
    apart overrides it)."""
    return client


@pytest.fixture
async def clinic(client: httpx.AsyncClient, staffing_client: httpx.AsyncClient) -> dict[str, str]:
    """One site in New York, open weekdays 7:00-22:00, with a room, a 30-minute visit type and
    a provider (hired through staffing, learnt by scheduling) bookable weekdays 8:00-22:00."""
    await post_ok(
        client,
        "/scheduling/sites",
        {
            "site_id": "north",
            "name": "North",
            "time_zone": "America/New_York",
            "opening_hours": [
                {"weekday": d, "opens": "07:00", "closes": "22:00"} for d in range(5)
            ],
        },
    )
    await post_ok(client, "/scheduling/sites/north/rooms", {"room_id": "exam-1", "name": "Exam 1"})
    await hire_bookable(staffing_client, "dr-a", ["north"], name="Dr. A", scheduling=client)
    await post_ok(
        client,
        "/scheduling/visit-types",
        {"visit_type_id": "follow-up", "name": "Follow-up", "duration_minutes": 30},
    )
    await make_bookable(client, "dr-a", "north", WEEKDAYS_8_TO_10PM)
    return {
        "site_id": "north",
        "room_id": "exam-1",
        "provider_id": "dr-a",
        "visit_type_id": "follow-up",
    }


WEEKDAYS_8_TO_5 = [{"weekday": d, "start": "08:00", "end": "17:00"} for d in range(5)]
WEEKDAYS_8_TO_10PM = [{"weekday": d, "start": "08:00", "end": "22:00"} for d in range(5)]


async def make_bookable(
    client: httpx.AsyncClient, provider_id: str, site_id: str, windows: Any = None
) -> None:
    """A weekday 8:00-17:00 template (or `windows`) at the site from 2026, for a provider
    scheduling knows with a licence (`hire_bookable`)."""
    await post_ok(
        client,
        f"/scheduling/providers/{provider_id}/availability",
        {
            "site_id": site_id,
            "windows": windows or WEEKDAYS_8_TO_5,
            "effective_from": "2026-01-01",
        },
    )


async def register(client: httpx.AsyncClient, *patient_ids: str) -> None:
    """Register each patient, with a made-up name and a 1970 birth date."""
    for patient_id in patient_ids:
        body = {
            "patient_id": patient_id,
            "name": f"Name of {patient_id}",
            "birth_date": "1970-01-01",
        }
        await post_ok(client, "/scheduling/patients", body)


def booking(clinic: dict[str, str], **change: Any) -> dict[str, Any]:
    """A booking request at the clinic, 9:00 New York time on 1 December, with `change`s."""
    return {"patient_id": "pat-1", **clinic, "start": "2026-12-01T09:00:00-05:00", **change}


async def search_slots(client: httpx.AsyncClient, **params: Any) -> httpx.Response:
    """`GET /scheduling/open-slots` for a follow-up at north on 1 December, with `params`."""
    day = {"site_id": "north", "visit_type_id": "follow-up", "start": "2026-12-01"}
    return await client.get("/scheduling/open-slots", params={**day, "end": "2026-12-01", **params})
