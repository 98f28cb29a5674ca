"""Rebuilds as jobs: progress to the switch, cancel, one at a time, and who asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
import structlog.testing

from services.scheduling.domain.events import SiteRegistered
from services.scheduling.domain.events import registry as scheduling_registry
from services.suite import Suite
from shared.clock import SystemClock, UuidIds
from shared.commands import CommandHandler
from shared.domain import Decider
from shared.events import DomainEvent, Envelope, Metadata
from shared.projections import Projection, View
from shared.readmodels import physical
from tests.support import settled, wait_until

DIRECTORY = "scheduling.directory"
SITES = 60


class SlowProjection:
    """A projection that takes its time over each event, so that a rebuild is seen running."""

    def __init__(self, inner: Projection, per_event: float) -> None:
        self._inner = inner
        self._per_event = per_event

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def contexts(self) -> tuple[str, ...]:
        return self._inner.contexts

    @property
    def collections(self) -> tuple[str, ...]:
        return self._inner.collections

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        await asyncio.sleep(self._per_event)
        await self._inner.apply(event, envelope, view)


async def register_sites(suite: Suite, count: int) -> None:
    """`count` sites of acme, appended to scheduling's event store fifty to a stream."""
    store = suite.service("scheduling").event_store
    assert store is not None
    handler = CommandHandler(store, scheduling_registry, SystemClock(), UuidIds())
    meta = Metadata(tenant="acme", actor="seeder", correlation_id="rebuild-test")
    record: Decider[None, Sequence[DomainEvent]] = Decider(None, lambda s, e: s, lambda s, c: c)
    for batch in range(0, count, 50):
        sites = [
            SiteRegistered(site_id=f"site-{n}", name=f"Site {n}", time_zone="UTC")
            for n in range(batch, min(batch + 50, count))
        ]
        await handler.handle(f"acme:sites:{batch}", record, sites, meta)
    # Billing and engagement each learn every site as an event of their own, which compliance
    # then audits: on the scale-out backend that takes a while for many sites.
    await settled(suite, timeout=120)


@pytest.fixture
async def slow_directory(suite: Suite) -> AsyncIterator[None]:
    """The directory's runner applies each event slowly, ten to a batch: a rebuild of it
    takes seconds, its progress moving between batches."""
    await register_sites(suite, SITES)
    runner = suite.service("scheduling").runner(DIRECTORY)
    fast, batch = runner.projection, runner.max_batch
    runner.projection, runner.max_batch = SlowProjection(fast, per_event=0.05), 10
    yield
    runner.projection, runner.max_batch = fast, batch


async def job(client: httpx.AsyncClient, operator: dict[str, str], job_id: str) -> dict[str, Any]:
    response = await client.get(f"/ops/rebuilds/{job_id}", headers=operator)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_rebuild_reports_its_progress_up_to_the_switch(
    client: httpx.AsyncClient, operator: dict[str, str], slow_directory: None
) -> None:
    with structlog.testing.capture_logs() as logs:
        started = await client.post(f"/ops/projections/{DIRECTORY}/rebuilds", headers=operator)
        assert started.status_code == 202, started.text
        rebuild = started.json()
        assert started.headers["location"] == f"/ops/rebuilds/{rebuild['id']}"
        assert (rebuild["status"], rebuild["generation"], rebuild["started_by"]) == (
            "running",
            2,
            "ops",
        )
        seen: list[dict[str, Any]] = []

        async def ended() -> dict[str, Any] | None:
            seen.append(await job(client, operator, rebuild["id"]))
            return seen[-1] if seen[-1]["status"] != "running" else None

        done = await wait_until(ended, timeout=60, interval=0.1, message="the switch")
    assert done is not None

    assert done["status"] == "switched"
    assert done["events_total"] >= SITES
    assert done["events_done"] == done["events_total"]
    assert done["finished_at"] >= done["started_at"]
    # It advanced: part-way counts between none and all, never going back.
    counts = [s["events_done"] for s in seen]
    assert counts == sorted(counts)
    assert any(0 < s["events_done"] < s["events_total"] for s in seen if s["events_total"])
    assert any(s["rate_per_second"] > 0 and s["seconds_left"] is not None for s in seen)

    status = (await client.get("/ops/projections", headers=operator)).json()
    [directory] = [p for p in status if p["name"] == DIRECTORY]
    assert (directory["generation"], directory["rebuilding"]) == (2, None)
    sites = (await client.get("/scheduling/sites")).json()
    assert len(sites) == SITES
    listed = (await client.get("/ops/rebuilds", headers=operator)).json()
    assert listed[0]["id"] == rebuild["id"]
    assert [e["operator"] for e in logs if e["event"] == "rebuild_started"] == ["ops"]


async def test_a_cancelled_rebuild_leaves_the_live_read_model_serving(
    client: httpx.AsyncClient, suite: Suite, operator: dict[str, str], slow_directory: None
) -> None:
    rebuild = (await client.post(f"/ops/projections/{DIRECTORY}/rebuilds", headers=operator)).json()

    async def under_way() -> bool:
        return bool((await job(client, operator, rebuild["id"]))["events_done"])

    await wait_until(under_way, timeout=30, message="the rebuild under way")
    with structlog.testing.capture_logs() as logs:
        cancelled = await client.delete(f"/ops/rebuilds/{rebuild['id']}", headers=operator)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == ("cancelled", "ops")
    assert [e["operator"] for e in logs if e["event"] == "rebuild_cancel_asked"] == ["ops"]

    status = (await client.get("/ops/projections", headers=operator)).json()
    [directory] = [p for p in status if p["name"] == DIRECTORY]
    assert (directory["generation"], directory["rebuilding"]) == (1, None)
    assert len((await client.get("/scheduling/sites")).json()) == SITES
    store = suite.service("scheduling").runner(DIRECTORY).read_models.store
    for collection in ("sites", "rooms", "providers", "visit_types"):
        assert await store.find(physical(collection, 2), limit=1) == []
    again = await client.delete(f"/ops/rebuilds/{rebuild['id']}", headers=operator)
    assert again.status_code == 409

    # The next rebuild starts afresh, in a generation of its own, and switches.
    rebuilt = await client.post(f"/ops/projections/{DIRECTORY}/rebuild", headers=operator)
    assert rebuilt.json() == {"name": DIRECTORY, "generation": 3}
    assert len((await client.get("/scheduling/sites")).json()) == SITES


async def test_a_rebuild_cancelled_the_moment_it_starts_ends_cancelled_at_once(
    client: httpx.AsyncClient, operator: dict[str, str], slow_directory: None
) -> None:
    # Cancelled before its task took a step, it used to stay "running" until it went stale.
    rebuild = (await client.post(f"/ops/projections/{DIRECTORY}/rebuilds", headers=operator)).json()
    cancelled = await client.delete(f"/ops/rebuilds/{rebuild['id']}", headers=operator)

    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == ("cancelled", "ops")
    again = await client.post(f"/ops/projections/{DIRECTORY}/rebuilds", headers=operator)
    assert again.status_code == 202, again.text  # its claim on the projection was let go


async def test_one_rebuild_of_a_projection_at_a_time(
    client: httpx.AsyncClient, operator: dict[str, str], slow_directory: None
) -> None:
    first = await client.post(f"/ops/projections/{DIRECTORY}/rebuilds", headers=operator)
    assert first.status_code == 202
    for path in (f"/ops/projections/{DIRECTORY}/rebuilds", f"/ops/projections/{DIRECTORY}/rebuild"):
        second = await client.post(path, headers=operator)
        assert second.status_code == 409, second.text
        assert first.json()["id"] in second.json()["title"]
    # Another projection rebuilds meanwhile.
    other = await client.post("/ops/projections/scheduling.waitlist/rebuild", headers=operator)
    assert other.status_code == 200
    cancelled = await client.delete(f"/ops/rebuilds/{first.json()['id']}", headers=operator)
    assert cancelled.json()["status"] == "cancelled"


async def test_rebuilds_refuse_what_they_cannot_do(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    unknown = await client.post("/ops/projections/nothing/rebuilds", headers=operator)
    assert unknown.status_code == 404
    assert (await client.get(f"/ops/rebuilds/{'0' * 32}", headers=operator)).status_code == 404
    assert (await client.delete(f"/ops/rebuilds/{'0' * 32}", headers=operator)).status_code == 404
    assert (await client.get("/ops/rebuilds/not-an-id", headers=operator)).status_code == 422
    assert (await client.get("/ops/rebuilds?limit=0", headers=operator)).status_code == 422
    # Tenant members, even admins, reach none of it.
    assert (await client.post(f"/ops/projections/{DIRECTORY}/rebuilds")).status_code == 403
    assert (await client.get("/ops/rebuilds")).status_code == 403


async def test_consumers_report_their_lag(
    client: httpx.AsyncClient, suite: Suite, operator: dict[str, str]
) -> None:
    await settled(suite)
    consumers = (await client.get("/ops/consumers", headers=operator)).json()
    assert consumers
    assert all(c["lag"] == 0 and c["running"] for c in consumers)
    assert {c["service"] for c in consumers} <= {s.name for s in suite.services}
