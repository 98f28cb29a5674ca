"""The public routes patients' signed links lead to (no bearer token) admit so many requests
per address a minute, then answer 429 with Retry-After, as a problem, before any work is done:
one count across the confirm, cancel and survey routes, each address counted apart."""

from __future__ import annotations

import httpx
import pytest

from services.suite import Suite
from shared.settings import Settings

PROBLEM = "application/problem+json"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Three requests a minute per address."""
    return settings.model_copy(update={"engagement_public_requests_per_minute": 3})


def patient_at(suite: Suite, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=suite.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://x")


async def test_an_address_past_its_public_requests_a_minute_is_told_when_to_retry(
    suite: Suite,
) -> None:
    async with patient_at(suite, "203.0.113.7") as patient:
        answered = [
            (await patient.get("/engagement/links/acme/not-a-token")).status_code,
            (await patient.post("/engagement/links/acme/not-a-token")).status_code,
            (await patient.get("/engagement/surveys/acme/not-a-token")).status_code,
        ]
        assert answered == [422, 422, 422]  # admitted, then refused for the token itself
        refused = await patient.post("/engagement/surveys/acme/not-a-token", json={})
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == PROBLEM
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        problem = refused.json()
        assert problem["status"] == 429
        assert problem["title"].startswith("too many requests from this address")
    async with patient_at(suite, "198.51.100.9") as neighbour:  # counted apart
        assert (await neighbour.get("/engagement/links/acme/not-a-token")).status_code == 422
