"""A retried POST with the same Idempotency-Key returns the first result and changes nothing."""

from __future__ import annotations

import asyncio

import httpx

from services.suite import Suite
from tests.api.conftest import booking, register
from tests.api.test_bad_input import events_written


async def test_a_retry_replays_the_first_response(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "book-1"}
    first = await client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
    written = await events_written(suite)

    retry = await client.post("/scheduling/appointments", json=booking(clinic), headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert await events_written(suite) == written


async def test_concurrent_retries_run_once(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "book-2"}
    responses = await asyncio.gather(
        *(
            client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
            for _ in range(5)
        )
    )
    created = [r for r in responses if r.status_code == 201]
    assert len({r.json()["id"] for r in created}) == 1
    assert all(r.status_code in (201, 409) for r in responses)
    store = suite.service("scheduling").event_store
    assert store is not None
    assert len(await store.load("acme:site-day:north:2026-12-01")) == 1


async def test_the_same_key_for_another_request_is_refused(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    headers = {"idempotency-key": "book-3"}
    await client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
    other = booking(clinic, start="2026-12-02T09:00:00-05:00")
    response = await client.post("/scheduling/appointments", json=other, headers=headers)
    assert response.status_code == 422
    assert response.json()["title"] == "Idempotency-Key reused"


async def test_keys_belong_to_a_tenant(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: object
) -> None:
    assert callable(token_for)
    headers = {"idempotency-key": "shared-key"}
    site = {"site_id": "s", "name": "S", "time_zone": "UTC"}
    mine = await client.post("/scheduling/sites", json=site, headers=headers)
    theirs = await client.post(
        "/scheduling/sites", json=site, headers={**headers, **token_for("admin", tenant="globex")}
    )
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["stream"] == "globex:site:s"
