"""A retried POST with the same Idempotency-Key returns the first result and changes nothing.

Keys belong to their caller, a retry passes the endpoint's access policy before anything
stored is read, and a key left claimed by a process that died is taken over after its lease.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import httpx
import pytest

from services.suite import Suite
from shared.documents.port import DocumentStore, Write
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor, booking, register, running_suite
from tests.api.test_bad_input import events_written

DAY = "acme:site-day:north:2026-12-01"


@pytest.fixture
async def suite(settings: Settings, clock: ShiftedClock) -> AsyncIterator[Suite]:
    """The suite on a clock the test moves."""
    async with running_suite(settings, clock) as suite:
        yield suite


class DiesBeforeStoringAnswers:
    """The idempotency store of a process killed right after its command committed: the
    claim was written, the answer never is."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def write(self, collection: str, writes: Sequence[Write]) -> list[str]:
        if any(w.doc is not None and w.doc.get("state") == "done" for w in writes):
            return []  # as though written: the process is gone before the write is sent
        return await self._store.write(collection, writes)


async def booked_ids(suite: Suite) -> list[str]:
    store = suite.service("scheduling").event_store
    assert store is not None
    return [e.data["appointment_id"] for e in await store.load(DAY)]


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


async def test_a_retry_after_a_crash_answers_the_booking_that_committed(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, clock: ShiftedClock
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "crash-1"}
    store = suite.app.state.idempotency
    suite.app.state.idempotency = DiesBeforeStoringAnswers(store)
    first = await client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
    suite.app.state.idempotency = store  # the process restarts
    assert first.status_code == 201, first.text
    appointment_id = first.json()["id"]

    # Within the 30 s lease (maybe still running elsewhere), with margin for a loaded
    # machine's own seconds since the claim: at 29 s, one real second expired it.
    clock.shift = timedelta(seconds=20)
    early = await client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
    assert early.status_code == 409, early.text
    assert early.headers["content-type"] == "application/problem+json"
    assert 1 <= int(early.headers["retry-after"]) <= 5

    clock.shift = timedelta(seconds=31)  # past the lease: the claim's process died
    retry = await client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.json()["id"] == appointment_id
    assert await booked_ids(suite) == [appointment_id]

    again = await client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == retry.json()


async def test_a_claim_taken_over_is_taken_over_once(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, clock: ShiftedClock
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "crash-2"}
    store = suite.app.state.idempotency
    suite.app.state.idempotency = DiesBeforeStoringAnswers(store)
    first = await client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
    suite.app.state.idempotency = store
    clock.shift = timedelta(seconds=31)

    retries = await asyncio.gather(
        *(
            client.post("/scheduling/appointments", json=booking(clinic), headers=headers)
            for _ in range(4)
        )
    )

    assert {r.status_code for r in retries} <= {201, 409}
    assert {r.json()["id"] for r in retries if r.status_code == 201} == {first.json()["id"]}
    assert await booked_ids(suite) == [first.json()["id"]]


async def test_keys_belong_to_their_caller(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: TokenFor
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "book-4"}
    mine = token_for("front_desk", sites=["north"], sub="desk-north")
    first = await client.post(
        "/scheduling/appointments", json=booking(clinic), headers={**headers, **mine}
    )
    assert first.status_code == 201, first.text

    for other in (
        token_for("front_desk", sites=["south"], sub="desk-south"),
        token_for("auditor", sub="auditor"),
    ):
        replayed = await client.post(
            "/scheduling/appointments", json=booking(clinic), headers={**headers, **other}
        )
        assert replayed.status_code == 403, replayed.text
        assert "idempotent-replayed" not in replayed.headers


async def test_a_retry_passes_the_endpoints_policy_first(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: TokenFor
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "book-5"}
    desk = token_for("front_desk", sites=["north"], sub="pat")
    first = await client.post(
        "/scheduling/appointments", json=booking(clinic), headers={**headers, **desk}
    )
    assert first.status_code == 201, first.text

    now_auditor = token_for("auditor", sub="pat")
    replayed = await client.post(
        "/scheduling/appointments", json=booking(clinic), headers={**headers, **now_auditor}
    )

    assert replayed.status_code == 403, replayed.text
    assert replayed.json()["title"] == "Your role does not allow this"


async def test_a_retry_after_losing_the_site_is_refused(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: TokenFor, suite: Suite
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "book-6"}
    at_north = token_for("front_desk", sites=["north"], sub="moved")
    first = await client.post(
        "/scheduling/appointments", json=booking(clinic), headers={**headers, **at_north}
    )
    assert first.status_code == 201, first.text
    written = await events_written(suite)

    moved_south = token_for("front_desk", sites=["south"], sub="moved")
    replayed = await client.post(
        "/scheduling/appointments", json=booking(clinic), headers={**headers, **moved_south}
    )

    assert replayed.status_code == 403, replayed.text
    assert "idempotent-replayed" not in replayed.headers
    assert await events_written(suite) == written


async def test_a_refusal_is_not_stored(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: TokenFor
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "book-7"}
    before = token_for("front_desk", sites=["south"], sub="new-hire")
    refused = await client.post(
        "/scheduling/appointments", json=booking(clinic), headers={**headers, **before}
    )
    assert refused.status_code == 403, refused.text

    granted = token_for("front_desk", sites=["north"], sub="new-hire")
    retry = await client.post(
        "/scheduling/appointments", json=booking(clinic), headers={**headers, **granted}
    )

    assert retry.status_code == 201, retry.text
    assert "idempotent-replayed" not in retry.headers


PUBLIC = (
    "/console/sign-",
    "/engagement/dashboard/sign-",
    "/engagement/links/{tenant}/",
    "/engagement/surveys/{tenant}/",
)


async def test_every_post_endpoint_is_guarded_by_its_published_policy(suite: Suite) -> None:
    """The policies a retry passes are found for every POST route, and are the ones OpenAPI
    publishes: a route the guards cannot find would replay without any check."""
    guards = suite.app.state.guards
    for path, operations in suite.app.openapi()["paths"].items():
        post = operations.get("post")
        if post is None:
            continue
        concrete = path.replace("{", "").replace("}", "")
        scope = {"type": "http", "method": "POST", "path": concrete, "root_path": ""}
        policies = guards.policies(scope)
        assert policies is not None, path
        # Only the console's and the KPI page's sign-in and sign-out (they take or drop the
        # token) and patients' signed links (the signed token is the authority) are public.
        published = [post["x-medoffice-policy"]] if "x-medoffice-policy" in post else []
        assert published or path.startswith(PUBLIC), path
        assert [p.describe() for p in policies] == published, path


async def test_a_series_retried_after_a_crash_answers_the_series_that_was_booked(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, clock: ShiftedClock
) -> None:
    await register(client, "pat-1")
    headers = {"idempotency-key": "series-1"}
    body = {
        **{k: v for k, v in booking(clinic).items() if k != "start"},
        "first_start": "2026-12-01T09:00:00-05:00",
        "count": 3,
    }
    store = suite.app.state.idempotency
    suite.app.state.idempotency = DiesBeforeStoringAnswers(store)
    first = await client.post("/scheduling/appointment-series", json=body, headers=headers)
    suite.app.state.idempotency = store
    assert first.status_code == 201, first.text
    clock.shift = timedelta(seconds=31)

    retry = await client.post("/scheduling/appointment-series", json=body, headers=headers)

    assert retry.status_code == 201, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["appointment_ids"] == first.json()["appointment_ids"]
    assert await booked_ids(suite) == [first.json()["appointment_ids"][0]]
