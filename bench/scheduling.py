"""Scheduling at a group's scale: open-slot search latency, booking throughput and latency.

The whole suite runs in this process (`build_suite`, as `medoffice serve` runs it: relays,
projection runners, the compliance consumers, the no-show timer) and every request goes
through its HTTP app in-process (httpx's ASGITransport: routing, auth, validation and JSON as
in production, without a socket). The group (clinic.py) is set up through the API; its
appointments are planned with the site-day decider and written into the event store one event
per commit, then the suite's relay and projections catch up; the clock starts only after the
read models have caught up.

Baselines, measured in the same run on the same backend:
- search: reading the same site-day board documents raw, one by one (sqlite3 / pymongo
  `find_one` by `_id`), for the days the search looked at: the read it cannot do without;
- search, the HTTP floor: an authenticated GET that reads one small read model
  (`/scheduling/no-show-rates` of an empty month), what any request costs in-process
  (alone, profiled: `python -m bench.scheduling [requests] [--profile out.prof]`);
- booking: a bare `EventStore.append` of one AppointmentBooked event at its expected
  version, into a scratch store of the same kind holding as many commits as the suite's (the
  write a booking cannot do without).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench import clinic
from bench.heap import fixtures_frozen
from bench.report import Latencies
from bench.workload import appointments
from services.scheduling.domain.events import AppointmentBooked
from services.scheduling.projections.day_views import SITE_DAYS, site_day_id
from services.suite import Suite, build_suite
from shared.backends import SUITE_DATABASES
from shared.clock import SystemClock
from shared.events import Envelope
from shared.eventstore.port import EventStore
from shared.http.identity import mint_token
from shared.readmodels import physical
from shared.settings import Settings

CLIENTS = 16
WINDOW_DAYS = 14
SEARCH_VISIT = "follow-up"
# (label, with a provider, limit): the front desk's "next 10" and a whole-window listing.
SEARCHES = (
    ("any provider, first 10", False, 10),
    ("one provider, first 10", True, 10),
    ("one provider, whole window", True, 200),
)


@dataclass(frozen=True)
class Size:
    days: int
    fill: float
    searches: int  # per kind of search
    bookings: int  # by CLIENTS clients
    alone: int  # by one client
    appends: int  # for the bare-append baseline


@dataclass
class Results:
    backend: str
    group: list[tuple[str, str]] = field(default_factory=list)  # (what, value) lines
    searches: list[tuple[Latencies, Latencies]] = field(default_factory=list)  # (ours, raw)
    floor: Latencies | None = None  # an authenticated GET reading one small read model
    alone: Latencies | None = None  # one client: the time a booking takes, no queueing
    booking: Latencies | None = None  # CLIENTS clients
    refused: dict[tuple[int, int], int] = field(default_factory=dict)  # (clients, status) -> n
    append: Latencies | None = None


def progress(text: str) -> None:
    print(f"  [{text}]", file=sys.stderr, flush=True)


RawRead = Callable[[str], Awaitable[dict[str, Any] | None]]


def _token(settings: Settings) -> dict[str, str]:
    token = mint_token(
        settings.jwt_secret,
        issuer=settings.jwt_issuer,
        subject="bench",
        tenant=clinic.TENANT,
        roles=["admin"],
        sites=None,
        now=SystemClock().now(),
    )
    return {"authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def built(settings: Settings) -> AsyncIterator[tuple[Suite, httpx.AsyncClient]]:
    """The suite and a client of its HTTP app; the suite's workers start in build_group."""
    suite = await build_suite(settings)
    try:
        transport = httpx.ASGITransport(app=suite.app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://medoffice",
            headers=_token(settings),
            timeout=300,
        ) as client:
            yield suite, client
    finally:
        await suite.stop()


async def caught_up(suite: Suite, timeout: float = 1800) -> None:
    """Wait until every commit is relayed and every consumer of the suite has lag 0."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await suite.behind():
            return
        await asyncio.sleep(1)
    raise TimeoutError("the read models did not catch up")


async def build_group(
    suite: Suite, client: httpx.AsyncClient, size: Size, results: Results
) -> tuple[clinic.Group, list[Envelope]]:
    """Set the group up through the API with the suite's workers running (scheduling learns
    the providers staffing hires from staffing's events), stop them, seed the bookings (so
    seeding times the appends alone), then start them again and wait for the catch-up."""
    first_day = clinic.first_monday(datetime.now(UTC).date())
    started = time.perf_counter()
    await suite.start()
    requests = await clinic.set_up(client, first_day)
    await caught_up(suite)
    for service in reversed(suite.services):
        await service.stop()
    set_up = time.perf_counter() - started
    progress(f"{results.backend}: group set up through the API in {set_up:.1f} s")
    store = suite.service("scheduling").event_store
    assert store is not None
    group = await clinic.plan_group(store, first_day, size.days)
    booked_at = datetime.now(UTC) - timedelta(days=1)
    clinic.fill(group, size.fill, booked_at)
    envelopes = clinic.booked_envelopes(group, booked_at)
    started = time.perf_counter()
    for envelope in envelopes:
        await store.append(envelope.stream, [envelope], envelope.stream_version - 1)
    seeded = time.perf_counter() - started
    progress(f"{results.backend}: {len(envelopes):,} bookings seeded in {seeded:.1f} s")
    started = time.perf_counter()
    await suite.start()
    await caught_up(suite)
    caught = time.perf_counter() - started
    progress(f"{results.backend}: read models caught up in {caught:.1f} s")
    last = first_day + timedelta(days=size.days - 1)
    held = sum(
        (event.end - event.start).total_seconds()
        for plan in group.plans.values()
        for event in plan.booked
        if isinstance(event, AppointmentBooked)
    )
    open_time = sum(
        (end - start).total_seconds()
        for plan in group.plans.values()
        for windows in plan.available.values()
        for start, end in windows
    )
    results.group += [
        (
            "group",
            f"{len(clinic.SITES)} sites, {len(clinic.SITES) * clinic.PROVIDERS_PER_SITE} "
            f"providers, {clinic.EXAM_ROOMS + clinic.PROCEDURE_ROOMS} rooms per site, "
            f"{len(clinic.VISITS)} visit types",
        ),
        ("period", f"{first_day} to {last} ({size.days} days)"),
        ("set up via the API", f"{requests} requests in {set_up:.1f} s"),
        (
            "appointments",
            f"{group.appointments:,} ({held / open_time:.0%} of the providers' available time)",
        ),
        ("seeded into the event store", f"{len(envelopes):,} commits in {seeded:.1f} s"),
        ("relay + every projection caught up", f"in {caught:.1f} s"),
    ]
    return group, envelopes


async def check_boards(group: clinic.Group, raw: RawRead) -> None:
    """Every site-day board holds what was planned: the read models really have caught up."""
    for (site_id, day), plan in group.plans.items():
        doc = await raw(site_day_id(clinic.TENANT, site_id, day.isoformat()))
        count = len(doc["appointments"]) if doc else 0
        if count != len(plan.booked):
            raise AssertionError(f"board {site_id} {day}: {count} of {len(plan.booked)} booked")


def days_read(
    slots: list[dict[str, Any]], first: date, last: date, limit: int, zone: ZoneInfo
) -> list[date]:
    """The days the search looked at: it stops after the day on which it reached `limit`."""
    end = last
    if len(slots) == limit:
        latest = max(datetime.fromisoformat(s["start"]) for s in slots)
        end = latest.astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((end - first).days + 1)]


async def measure_search(
    client: httpx.AsyncClient, group: clinic.Group, size: Size, raw: RawRead, results: Results
) -> None:
    rng = random.Random(11)
    zones = {site: ZoneInfo(zone) for site, zone, _ in clinic.SITES}
    window = min(WINDOW_DAYS, size.days)
    for label, with_provider, limit in SEARCHES:
        ours: list[float] = []
        baseline: list[float] = []
        days_total = 0
        for _ in range(size.searches):
            site_id = rng.choice(clinic.SITES)[0]
            first = group.first_day + timedelta(days=rng.randrange(size.days - window + 1))
            last = first + timedelta(days=window - 1)
            params: dict[str, Any] = {
                "site_id": site_id,
                "visit_type_id": SEARCH_VISIT,
                "start": first.isoformat(),
                "end": last.isoformat(),
                "limit": limit,
            }
            if with_provider:
                params["provider_id"] = rng.choice(clinic.provider_ids(site_id))
            started = time.perf_counter()
            response = await client.get("/scheduling/open-slots", params=params)
            ours.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"open-slots: {response.status_code} {response.text}")
            looked_at = days_read(response.json(), first, last, limit, zones[site_id])
            days_total += len(looked_at)
            ids = [site_day_id(clinic.TENANT, site_id, d.isoformat()) for d in looked_at]
            started = time.perf_counter()
            for doc_id in ids:
                await raw(doc_id)
            baseline.append(time.perf_counter() - started)
        note = f"{window}-day windows, {days_total / size.searches:.1f} days read on average"
        results.searches.append(
            (
                Latencies(f"open slots: {label}", results.backend, tuple(ours), note=note),
                Latencies(
                    f"raw board reads: {label}", results.backend, tuple(baseline), note="same days"
                ),
            )
        )
    # What any request costs before the search does anything: routing, auth, validation,
    # tracing, JSON, httpx in-process; this one reads one small read model (no-show rates).
    floor: list[float] = []
    for _ in range(size.searches):
        started = time.perf_counter()
        response = await client.get("/scheduling/no-show-rates", params={"month": "2000-01"})
        floor.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"no-show-rates: {response.status_code} {response.text}")
    results.floor = Latencies(
        "HTTP floor: GET /scheduling/no-show-rates",
        results.backend,
        tuple(floor),
        note="an empty month: one registry read, one query",
    )


async def measure_booking(
    client: httpx.AsyncClient, group: clinic.Group, count: int, clients: int, results: Results
) -> Latencies:
    """`clients` front desks booking `count` distinct free slots between them, each request
    as soon as its previous one answered."""
    slots = list(clinic.free_slots(group, count, SEARCH_VISIT, seed=clients))
    queue = list(reversed(slots))
    latencies: list[float] = []

    async def front_desk() -> None:
        while queue:
            site_id, provider_id, start = queue.pop()
            body = {
                "patient_id": clinic.BENCH_PATIENTS[len(queue) % len(clinic.BENCH_PATIENTS)],
                "provider_id": provider_id,
                "site_id": site_id,
                "visit_type_id": SEARCH_VISIT,
                "start": start.isoformat(),
            }
            began = time.perf_counter()
            response = await client.post("/scheduling/appointments", json=body)
            latencies.append(time.perf_counter() - began)
            if response.status_code != 201:
                key = (clients, response.status_code)
                results.refused[key] = results.refused.get(key, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(front_desk() for _ in range(clients)))
    wall = time.perf_counter() - started
    what = f"book, {clients} concurrent clients" if clients > 1 else "book, 1 client"
    note = "distinct free slots, random site-days; room chosen by the booking"
    return Latencies(what, results.backend, tuple(latencies), wall, note)


async def measure_append(
    store: EventStore, seeded: list[Envelope], count: int, backend: str, note: str
) -> Latencies:
    """Appends of one new event at its expected version, timed one by one, into a scratch store
    first filled (untimed) with the group's bookings, so it is as full as the suite's."""
    for envelope in seeded:
        await store.append(envelope.stream, [envelope], envelope.stream_version - 1)
    envelopes = appointments(count, seed=99).envelopes
    latencies = []
    started = time.perf_counter()
    for envelope in envelopes:
        began = time.perf_counter()
        await store.append(envelope.stream, [envelope], envelope.stream_version - 1)
        latencies.append(time.perf_counter() - began)
    wall = time.perf_counter() - started
    return Latencies("bare append, 1 event", backend, tuple(latencies), wall, note)


# ----------------------------------------------------------------------------------- backends


async def embedded(size: Size) -> Results:
    from shared.eventstore.sqlite import SqliteEventStore
    from shared.sqlite import SqliteDatabase

    results = Results("embedded")
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-") as tmp:
        # Named as None: the environment may name Kafka and MongoDB for the scale-out run.
        settings = Settings(
            data_dir=Path(tmp) / "suite",
            seed_demo=False,
            env="test",
            log_json=False,
            kafka_bootstrap=None,
            mongo_url=None,
        )
        async with built(settings) as (suite, client):
            group, seeded = await build_group(suite, client, size, results)
            conn = sqlite3.connect(settings.data_dir / "scheduling" / "readmodels.db")
            collection = physical(SITE_DAYS, 1)

            async def raw(doc_id: str) -> dict[str, Any] | None:
                row = conn.execute(
                    "SELECT body FROM documents WHERE collection = ? AND id = ?",
                    (collection, doc_id),
                ).fetchone()
                return None if row is None else dict(json.loads(row[0]))

            # As `medoffice serve` keeps its start-up heap out of the collector's walks; the
            # group and envelopes the bench keeps too (for its checks and the baseline).
            with fixtures_frozen():
                try:
                    await check_boards(group, raw)
                    await measure_search(client, group, size, raw, results)
                finally:
                    conn.close()
                results.alone = await measure_booking(client, group, size.alone, 1, results)
                results.booking = await measure_booking(
                    client, group, size.bookings, CLIENTS, results
                )
                store = SqliteEventStore(
                    SqliteDatabase(Path(tmp) / "baseline.db", settings.sqlite_durability)
                )
                try:
                    results.append = await measure_append(
                        store,
                        seeded,
                        size.appends,
                        "embedded",
                        f"SqliteEventStore, WAL, synchronous={settings.sqlite_durability.upper()}",
                    )
                finally:
                    await store.close()
    return results


async def scale_out(size: Size, bootstrap: str, url: str) -> Results:
    from aiokafka.admin import AIOKafkaAdminClient
    from pymongo import AsyncMongoClient

    from bench.scaleout import delete_topics, scratch_database
    from shared.eventstore.mongo import open_mongo_event_store

    results = Results("scale-out")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    namespace = f"bench-{uuid.uuid4().hex[:12]}."
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            seed_demo=False,
            env="test",
            log_json=False,
            kafka_bootstrap=bootstrap,
            mongo_url=url,
            mongo_database=name,
            topic_namespace=namespace,
        )
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="medoffice-bench")
        await admin.start()
        try:
            async with built(settings) as (suite, http):
                group, seeded = await build_group(suite, http, size, results)
                boards = client[f"{name}_scheduling"][f"rm_{physical(SITE_DAYS, 1)}"]

                async def raw(doc_id: str) -> dict[str, Any] | None:
                    return await boards.find_one({"_id": doc_id})

                with fixtures_frozen():  # as in the embedded run
                    await check_boards(group, raw)
                    await measure_search(http, group, size, raw, results)
                    results.alone = await measure_booking(http, group, size.alone, 1, results)
                    results.booking = await measure_booking(
                        http, group, size.bookings, CLIENTS, results
                    )
            async with scratch_database(url) as (_, database):
                store = await open_mongo_event_store(url, database)
                try:
                    with fixtures_frozen():
                        results.append = await measure_append(
                            store,
                            seeded,
                            size.appends,
                            "scale-out",
                            "MongoEventStore, scratch database",
                        )
                finally:
                    await store.close()
        finally:
            for service in SUITE_DATABASES:
                with contextlib.suppress(Exception):
                    await client.drop_database(f"{name}_{service}")
            await client.close()
            await delete_topics(admin, namespace)
            await admin.close()
    return results


# ----------------------------------------------------------------------------------- printing

EMBEDDED = Size(days=90, fill=0.6, searches=200, bookings=1000, alone=200, appends=2000)
SCALE_OUT = Size(days=14, fill=0.6, searches=20, bookings=100, alone=20, appends=500)

METHOD = (
    "The suite runs in this process (build_suite: relays, projection runners, compliance "
    "consumers, no-show timer) and every request goes through its HTTP app in-process (httpx "
    "ASGITransport: auth, validation, JSON; no socket). The group is set up through the API "
    "with the suite's workers running (providers hired through staffing, learnt by scheduling "
    "from its events), then the workers stop; its bookings are planned with the site-day "
    "decider and appended to the event store one event per commit before the workers start "
    "again, then the clock waits until the relay "
    "and every consumer have caught up. Searches run one at a time over random sites and "
    f"{WINDOW_DAYS}-day windows ('{SEARCH_VISIT}', 30 min, exam room); bookings are "
    f"{CLIENTS} clients each booking distinct free slots (no two clash) at random site-days. "
    "Baselines in the same run on the same backend: the search against reading the board "
    "documents of the days it looked at raw (sqlite3 / pymongo find_one by _id); the booking "
    "against a bare EventStore.append of one event into a scratch store holding as many "
    "commits as the suite's. What the process holds once the group is set up (the suite's "
    "start-up heap, the bench's planned group and envelopes) is kept out of the garbage "
    "collector's walks while the clock runs, as `medoffice serve` keeps its start-up heap."
)


def scale_out_note(days: int) -> str:
    return (
        f"Scale-out: the same group over {days} days instead of {EMBEDDED.days}, and fewer "
        "searches and bookings, to keep the run short. The MongoDB-wire test server of infra/ "
        "is FerretDB 1.24 on PostgreSQL, which answers the hot queries from indexes (on its "
        "SQLite fallback every query but _id scans, and costs grow with what is stored); it "
        "and Kafka share the machine with the suite. Windows are at most as long as the period."
    )


def report_results(results: list[Results]) -> None:
    from bench.report import latency_comparisons, latency_table

    for r in results:
        print()
        for what, value in r.group:
            print(f"{r.backend}: {what}: {value}")
    print()
    rows: list[Latencies] = []
    for r in results:
        rows += [figure for pair in r.searches for figure in pair]
        rows += [r.floor] if r.floor is not None else []
        rows += [f for f in (r.alone, r.booking, r.append) if f is not None]
    latency_table(rows)
    for r in results:
        if r.refused:
            refused = ", ".join(
                f"{n} x {status} ({clients} clients)"
                for (clients, status), n in sorted(r.refused.items())
            )
            print(f"{r.backend}: bookings not 201: {refused}")
    lines: list[tuple[str, str, float, float]] = []
    for r in results:
        for ours, raw in r.searches:
            label = ours.what.removeprefix("open slots: ")
            lines.append(
                (f"{r.backend} search p50 vs raw reads ({label})", "ms", *_p(ours, raw, 0.5))
            )
            lines.append(
                (f"{r.backend} search p95 vs raw reads ({label})", "ms", *_p(ours, raw, 0.95))
            )
        if r.floor is not None and r.searches:
            ours, raw = r.searches[0]
            label = ours.what.removeprefix("open slots: ")
            lines.append(
                (
                    f"{r.backend} HTTP floor p95 vs raw reads ({label})",
                    "ms",
                    *_p(r.floor, raw, 0.95),
                )
            )
        a = r.append
        if r.alone is not None and a is not None:
            alone = f"{r.backend} booking, 1 client vs bare append"
            lines.append((f"{alone}: per second", "/s", r.alone.rate, a.rate))
            lines.append((f"{alone}: p50", "ms", *_p(r.alone, a, 0.5)))
        if r.booking is not None and a is not None:
            b, many = r.booking, f"{r.backend} booking, {CLIENTS} clients vs bare append"
            lines += [
                (f"{many}: per second", "/s", b.rate, a.rate),
                (f"{many}: p50", "ms", *_p(b, a, 0.5)),
                (f"{many}: p99", "ms", *_p(b, a, 0.99)),
            ]
    print()
    latency_comparisons(lines)


def _p(ours: Latencies, baseline: Latencies, q: float) -> tuple[float, float]:
    return ours.quantile(q) * 1000, baseline.quantile(q) * 1000


FLOOR_WARMUP = 300


async def floor_alone(requests: int, profile: Path | None = None) -> Latencies:
    """The HTTP floor alone, on an empty embedded suite: the route `measure_search` times after
    the searches, `requests` times after a warm-up; with `profile`, a cProfile of the timed
    requests written there (`python -m bench.scheduling [requests] [--profile out.prof]`)."""
    import cProfile

    with tempfile.TemporaryDirectory(prefix="medoffice-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            seed_demo=False,
            env="test",
            log_json=False,
            kafka_bootstrap=None,
            mongo_url=None,
        )
        async with built(settings) as (_, client):

            async def floor() -> float:
                started = time.perf_counter()
                response = await client.get(
                    "/scheduling/no-show-rates", params={"month": "2000-01"}
                )
                took = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"no-show-rates: {response.status_code} {response.text}")
                return took

            for _ in range(FLOOR_WARMUP):
                await floor()
            if profile is None:
                times = [await floor() for _ in range(requests)]
            else:
                profiler = cProfile.Profile()
                profiler.enable()
                times = [await floor() for _ in range(requests)]
                profiler.disable()
                profiler.dump_stats(profile)
    return Latencies("HTTP floor: GET /scheduling/no-show-rates", "embedded", tuple(times))


if __name__ == "__main__":
    from shared.observability import configure

    configure("warning", json_logs=True)
    args = sys.argv[1:]
    out = Path(args[args.index("--profile") + 1]) if "--profile" in args else None
    count = int(args[0]) if args and args[0].isdigit() else 3000
    alone = asyncio.run(floor_alone(count, out))
    print(
        f"HTTP floor, {count} requests: p50 {alone.quantile(0.5) * 1000:.3f} ms, "
        f"p95 {alone.quantile(0.95) * 1000:.3f} ms" + (f"; profile in {out}" if out else "")
    )
