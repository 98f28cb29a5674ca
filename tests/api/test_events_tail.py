"""The live tail, GET /ops/events/tail: what the API publishes appears, filtered, PHI sealed;
only operators; and a watcher that goes away leaves nothing following the bus.

httpx's ASGI transport hands the answer over once it ended, so tests through it ask for a
`limit` and start the suite's work once the bus counts the watcher; the tests of a client going
away stream from a real uvicorn serving the suite's app on a loopback port.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import TokenFor, booking, post_ok, register
from tests.api.staffing_helpers import hire_bookable
from tests.support import every_case_holds, settled, wait_until

TAIL = "/ops/events/tail"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Heartbeats fast enough to see one."""
    return settings.model_copy(update={"tail_heartbeat_seconds": 0.2})


def sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of each event in a Server-Sent Events text; comments skipped."""
    found = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        name = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), "message")
        data = "".join(ln[5:].strip() for ln in lines if ln.startswith("data:"))
        found.append((name, json.loads(data)))
    return found


async def watching(suite: Suite, count: int) -> None:
    async def enough() -> bool:
        return suite.backends.bus.following >= count

    await wait_until(enough, message=f"{count} watcher(s) following the bus")


async def no_watcher(suite: Suite) -> None:
    async def none() -> bool:
        return suite.backends.bus.following == 0

    await wait_until(none, message="every watcher gone from the bus")


def tail(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> asyncio.Task[httpx.Response]:
    return asyncio.create_task(client.get(TAIL, params=params, headers=headers))


async def test_a_booking_made_through_the_api_appears_in_the_tail(
    suite: Suite, client: httpx.AsyncClient, clinic: dict[str, str], operator: dict[str, str]
) -> None:
    watch = tail(client, operator, type="AppointmentBooked", limit=1)
    await watching(suite, 1)

    await register(client, "pat-1")
    booked = await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic),
    )

    response = await asyncio.wait_for(watch, 60)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith(": following\n\n")
    [(name, event)] = sse(response.text)
    assert name == "message"
    assert event["type"] == "medoffice.scheduling.AppointmentBooked.v1"
    assert event["context"] == "scheduling"
    assert event["source"]
    assert event["tenant"] == "acme"
    assert event["stream"] == booked["stream"]
    assert event["stream_version"] == booked["stream_version"]
    assert event["data"]["appointment_id"] == booked["id"]
    assert event["correlation_id"]
    assert event["time"]
    assert f"id: {event['id']}\n" in response.text
    await no_watcher(suite)


async def test_filters_keep_only_the_events_asked_for(
    suite: Suite,
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    operator: dict[str, str],
    token_for: TokenFor,
) -> None:
    await register(client, "pat-1", "pat-2")
    first = await post_ok(client, "/scheduling/appointments", booking(clinic))
    later = booking(clinic, patient_id="pat-2", start="2026-12-02T09:00:00-05:00")
    of_stream = tail(
        client, operator, stream="acme:site-day:north:2026-12-02", type="AppointmentBooked", limit=1
    )
    of_correlation = tail(client, operator, correlation_id="watch-me", limit=1)
    of_tenant = tail(client, operator, tenant="globex", limit=1)
    of_staffing = tail(client, operator, context="staffing", limit=1)
    await watching(suite, 4)

    # Not for any of them: acme's scheduling, another day, another correlation id.
    cancelled = await client.post(
        f"/scheduling/appointments/{first['id']}/cancel", json={"reason": "patient asked"}
    )
    assert cancelled.status_code == 200, cancelled.text
    second = await client.post(
        "/scheduling/appointments", json=later, headers={"x-correlation-id": "watch-me"}
    )
    assert second.status_code == 201, second.text
    await hire_bookable(client, "dr-tail", ["north"])
    globex = await client.post(
        "/scheduling/sites",
        json={"site_id": "east", "name": "East", "time_zone": "UTC"},
        headers=token_for("admin", tenant="globex"),
    )
    assert globex.status_code == 201, globex.text

    [(_, by_stream)] = sse((await asyncio.wait_for(of_stream, 60)).text)
    assert by_stream["data"]["appointment_id"] == second.json()["id"]
    [(_, by_correlation)] = sse((await asyncio.wait_for(of_correlation, 60)).text)
    assert by_correlation["correlation_id"] == "watch-me"
    [(_, by_tenant)] = sse((await asyncio.wait_for(of_tenant, 60)).text)
    assert by_tenant["tenant"] == "globex"
    assert by_tenant["type"] == "medoffice.scheduling.SiteRegistered.v1"
    [(_, by_context)] = sse((await asyncio.wait_for(of_staffing, 60)).text)
    assert by_context["context"] == "staffing"
    await no_watcher(suite)


async def test_phi_is_shown_sealed_never_opened(
    suite: Suite, client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    watch = tail(client, operator, type="medoffice.scheduling.PatientRegistered.v1", limit=1)
    await watching(suite, 1)

    await register(client, "pat-sealed")

    response = await asyncio.wait_for(watch, 60)
    [(_, event)] = sse(response.text)
    assert {"name", "birth_date"} <= set(event["phi"])
    for field in event["phi"]:
        assert event["data"][field] == {"sealed": True}
    assert "Name of pat-sealed" not in response.text
    assert "1970-01-01" not in response.text
    assert '"ct"' not in response.text  # not even the ciphertext


BAD_FILTERS: list[dict[str, Any]] = [
    {"context": "nowhere"},
    {"type": "not a type"},
    {"tenant": "x" * 65},
    {"stream": ""},
    {"correlation_id": "a b"},
    {"limit": 0},
]


async def test_a_bad_filter_is_a_422_before_anything_is_followed(
    suite: Suite, client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    async def refused(params: dict[str, Any]) -> None:
        response = await client.get(TAIL, params=params, headers=operator)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert suite.backends.bus.following == 0

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(BAD_FILTERS, refused)


async def test_only_operators_watch(
    client: httpx.AsyncClient, token_for: TokenFor, operator: dict[str, str]
) -> None:
    for role in ("admin", "auditor", "manager"):
        response = await client.get(TAIL, params={"limit": 1}, headers=token_for(role))
        assert response.status_code == 403, (role, response.text)
    client.headers.pop("authorization")
    assert (await client.get(TAIL, params={"limit": 1})).status_code == 401


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def served(suite: Suite) -> AsyncIterator[str]:
    """The suite's app under a real uvicorn on a loopback port: its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        suite.app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:

        async def started() -> bool:
            return server.started

        await wait_until(started, message="uvicorn listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


async def test_a_client_that_goes_away_leaves_no_one_following(
    suite: Suite,
    served: str,
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    operator: dict[str, str],
) -> None:
    await register(client, "pat-1")
    async with (
        httpx.AsyncClient(base_url=served, headers=operator, timeout=30) as remote,
        remote.stream("GET", TAIL, params={"type": "AppointmentBooked"}) as response,
    ):
        assert response.status_code == 200
        lines = response.aiter_lines()
        assert await anext(lines) == ": following"
        booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
        seen: list[str] = []
        async with asyncio.timeout(60):
            async for line in lines:
                seen.append(line)
                if line.startswith("data:"):
                    break
        assert json.loads(seen[-1][5:])["data"]["appointment_id"] == booked["id"]
        async with asyncio.timeout(60):
            async for line in lines:
                if line == ": heartbeat":
                    break
        assert suite.backends.bus.following == 1
    # The client closed the connection without reading on: the watch ends, its follower too.
    await no_watcher(suite)
