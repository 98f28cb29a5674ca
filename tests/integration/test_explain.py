"""Every hot query of the Mongo adapters is an index lookup on the server in use.

The adapters run their hot operations on a filled database through a client that records every
command it sends; each recorded query (a find, or the filter of an update, delete or count) is
then explained on the same server:

- FerretDB on PostgreSQL (the test server of infra/): the PostgreSQL plan must read the
  collection's table through an index (Index Scan, or a Bitmap Index Scan), never a Seq Scan;
- MongoDB (buildInfo has no `ferretdbVersion`): the winning plan must hold an IXSCAN, IDHACK or
  EXPRESS stage and no COLLSCAN.

Whatever the server, each query must also select on the leading field of one of the
collection's indexes (listIndexes): on FerretDB on SQLite, infra's fallback when PostgreSQL
cannot be installed, that is all there is to check, as that backend scans for every query.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pytest
from pymongo import monitoring

from bench.receivables import T, batched, workload
from services.billing.application.receivables import Kpis, Receivables
from services.billing.domain.events import registry
from services.billing.projections.receivables import (
    KPIS,
    MARKS,
    SNAPSHOT_ROWS,
    SNAPSHOTS,
    ReceivablesProjection,
)
from services.compliance.application.alerts import NEWEST_FIRST, alerts_where
from services.compliance.application.monitors import READS
from services.compliance.application.queries import AuditQueries
from services.compliance.domain.disclosures import PatientRecordAccessed
from services.compliance.projections.alerts import ALERTS
from services.compliance.projections.audit_log import AuditLogProjection
from shared.documents.mongo import MongoDocumentStore
from shared.documents.port import Write
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.eventstore.mongo import MongoEventStore
from shared.mongo import MongoClient, connect
from shared.projections import NewDocuments, View
from shared.readmodels import ReadModels, physical

pytestmark = pytest.mark.integration

QUERIES = ("find", "update", "delete", "aggregate")
STREAMS = 100
COMMITS = 1200  # enough pages that no planner finds a scan cheaper than an index
DOCUMENTS = 1500


class Noted(DomainEvent):
    context: ClassVar[str] = "test"
    note: str


class Recorder(monitoring.CommandListener):
    """The query commands a client sent to one database, in order."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == self.database and event.command_name in QUERIES:
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def as_finds(command: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The recorded command as the find(s) that select what it reads or writes."""
    name = next(iter(command))
    collection = command[name]
    if name == "find":
        find = {"find": collection, "filter": command.get("filter", {})}
        find.update({k: command[k] for k in ("sort", "limit", "projection") if k in command})
        yield find
    elif name in ("update", "delete"):
        for statement in command["updates" if name == "update" else "deletes"]:
            yield {"find": collection, "filter": statement["q"]}
    else:  # count_documents: [{$match}, {$group}]
        yield {"find": collection, "filter": command["pipeline"][0].get("$match", {})}


def lookup_fields(query: Mapping[str, Any]) -> set[str]:
    """The fields an index could look the filter up by: equality and $in, and ranges on _id."""
    fields = set()
    for name, condition in query.items():
        if not isinstance(condition, Mapping):
            fields.add(name)
        elif {"$eq", "$in"} & set(condition) or (name == "_id" and condition):
            fields.add(name)
    return fields


def nodes(plan: Any) -> Iterator[Mapping[str, Any]]:
    """Every dict in an explain output (plans nest under various keys on each server)."""
    if isinstance(plan, Mapping):
        yield plan
        for value in plan.values():
            yield from nodes(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from nodes(value)


def problems(server: str, find: Mapping[str, Any], explained: Mapping[str, Any]) -> list[str]:
    """What makes this plan not an index lookup; empty when it is one."""
    planner = explained.get("queryPlanner", {})
    if server == "mongodb":
        stages = [n["stage"] for n in nodes(planner.get("winningPlan", {})) if "stage" in n]
        scans = [s for s in stages if s == "COLLSCAN"]
        lookups = [s for s in stages if s in ("IXSCAN", "IDHACK") or s.startswith("EXPRESS")]
        return [f"winning plan {stages}"] if scans or not lookups else []
    kinds = [n["Node Type"] for n in nodes(planner) if "Node Type" in n]
    if not kinds:  # FerretDB on SQLite: no PostgreSQL plan to read
        return []
    if not explained.get("filterPushdown"):
        return [f"filter not pushed down to PostgreSQL (plan {kinds})"]
    scans = [k for k in kinds if k == "Seq Scan"]
    lookups = [k for k in kinds if k in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")]
    return [f"PostgreSQL plan {kinds}"] if scans or not lookups else []


async def server_kind(client: MongoClient) -> str:
    info = await client.admin.command("buildInfo")
    return "ferretdb" if "ferretdbVersion" in info else "mongodb"


async def check_recorded(client: MongoClient, database: str, recorder: Recorder) -> list[str]:
    """Explain every recorded query; return what is wrong with each that is not a lookup.

    The collections are compacted first: on FerretDB that is PostgreSQL's VACUUM ANALYZE, so
    the planner weighs the indexes by the data's real statistics, as it would on a server that
    has been running, not by whatever autovacuum happened to see mid-test.
    """
    server = await server_kind(client)
    db = client[database]
    for name in {next(iter(c.values())) for c in recorder.commands}:
        await db.command("compact", name)
    indexes: dict[str, set[str]] = {}
    seen: set[str] = set()
    wrong: list[str] = []
    for command in recorder.commands:
        for find in as_finds(command):
            key = json.dumps(find, sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            collection = find["find"]
            if collection not in indexes:
                listed = await (await db[collection].list_indexes()).to_list()
                indexes[collection] = {next(iter(i["key"])) for i in listed}
            if not lookup_fields(find["filter"]) & indexes[collection]:
                wrong.append(f"{find}: no index leads with a field it looks up by")
            explained = await db.command("explain", find, verbosity="queryPlanner")
            wrong += [f"{find}: {problem}" for problem in problems(server, find, explained)]
    return wrong


@pytest.fixture
async def recorded(mongo_url: str, unique: str) -> AsyncIterator[tuple[MongoClient, Recorder]]:
    recorder = Recorder(unique)
    client = connect(mongo_url, event_listeners=[recorder], serverSelectionTimeoutMS=10_000)
    try:
        yield client, recorder
    finally:
        await client.drop_database(unique)
        await client.close()


def commit(n: int) -> Envelope:
    stream = f"acme:thing:{n % STREAMS}"
    version = n // STREAMS + 1
    return seal(
        Noted(note="x" * 400),
        stream=stream,
        stream_version=version,
        meta=Metadata(tenant="acme", correlation_id=f"c{n}"),
        event_id=f"e{n}",
        time=datetime(2026, 12, 1, tzinfo=UTC),
    )


async def test_event_store_queries_are_index_lookups(
    recorded: tuple[MongoClient, Recorder], unique: str
) -> None:
    client, recorder = recorded
    writer = await MongoEventStore.create(client[unique])
    for n in range(COMMITS):
        envelope = commit(n)
        await writer.append(
            envelope.stream, [envelope], envelope.stream_version - 1, tags=[f"tag-{n % 40}"]
        )
    await writer.mark_published(list(range(1, COMMITS - 20)))  # the relay's usual backlog

    recorder.commands.clear()  # the appends: what a running store does, from here
    store = await MongoEventStore.create(client[unique])  # knows no head yet
    assert len(await store.load("acme:thing:7")) == COMMITS // STREAMS
    assert await store.load("acme:thing:7", after_version=5)
    assert await store.version("acme:thing:8") == COMMITS // STREAMS
    assert await store.streams_tagged("tag-3")
    assert len(await store.unpublished()) == 21
    await store.mark_published([COMMITS - 3, COMMITS - 2])
    assert len(await store.read_all(100, limit=50)) == 50  # a page in the middle
    assert len(await store.read_all(COMMITS - 10)) == 10  # the head
    fresh = await MongoEventStore.create(client[unique])  # its first append finds the head
    late = commit(COMMITS)
    assert (
        await fresh.append(late.stream, [late], late.stream_version - 1)
    ).position == COMMITS + 1
    assert recorder.commands

    assert await check_recorded(client, unique, recorder) == []


async def test_document_store_queries_are_index_lookups(
    recorded: tuple[MongoClient, Recorder], unique: str
) -> None:
    client, recorder = recorded
    store = MongoDocumentStore(client[unique])
    docs = [
        Write(
            f"acme:a{n}",
            {
                "tenant": "acme",
                "patient_id": f"p{n % 300}",
                "site_id": f"site-{n % 50}",
                "status": "booked" if n % 50 else "waiting",
                "start": f"2026-12-{n % 28 + 1:02d}T09:00:00+00:00",
                "notes": "y" * 300,
            },
        )
        for n in range(DOCUMENTS)
    ]
    assert await store.write("appointments", docs) == []

    recorder.commands.clear()
    assert await store.get("appointments", "acme:a7")
    assert len(await store.get_many("appointments", ["acme:a1", "acme:a2", "acme:a9"])) == 3
    assert await store.find("appointments", {"tenant": "acme", "patient_id": "p7"})
    assert await store.find(
        "appointments",
        {"tenant": "acme", "status": "waiting", "start": {"$lte": "2026-12-31"}},
        sort=[("start", 1)],
        limit=10,
    )
    assert await store.find("appointments", {"site_id": {"$in": ["site-1", "site-2"]}}, limit=5)
    assert await store.count("appointments", {"patient_id": "p8"}) == DOCUMENTS // 300
    # Open-slot search of one provider: the revisions of the site's and the provider's documents.
    assert await store.revisions("appointments", {"_id": {"$in": ["acme:a1", "acme:a2"]}})
    current = await store.get("appointments", "acme:a8")
    assert current is not None
    changed = Write("acme:a8", {**current, "status": "arrived"}, expected_rev=current["_rev"])
    assert await store.write("appointments", [changed, Write("acme:a9", None)]) == []
    assert recorder.commands

    assert await check_recorded(client, unique, recorder) == []


class Touched(DomainEvent):
    context: ClassVar[str] = "test"
    patient_id: str
    site_id: str


class Flagged(Touched):
    pass


def audited(n: int) -> tuple[DomainEvent, Envelope]:
    """The n-th event of a busy tenant: a change naming a patient (a type of its own, rarer,
    every 25th), or every third a read of their record (every ninth for a purpose the
    accounting lists); requests of three events, each caused by the one before."""
    patient, site = f"p{n % 300}", f"site-{n % 50}"
    kind = Flagged if n % 25 == 1 else Touched
    event: DomainEvent = kind(patient_id=patient, site_id=site)
    if n % 3 == 0:
        event = PatientRecordAccessed(
            patient_id=patient,
            endpoint=f"/scheduling/patients/{patient}",
            purpose=["TREAT", None, "HLEGAL"][n // 3 % 3],
            outcome="disclosed",
            accessed_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
    meta = Metadata(
        tenant="acme",
        actor=f"user-{n % 40}",
        correlation_id=f"c{n // 3}",
        causation_id=f"a{n - 1}" if n % 3 else None,
    )
    return event, seal(
        event,
        stream=f"acme:thing:{n}",
        stream_version=1,
        meta=meta,
        event_id=f"a{n}",
        time=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n),
        subject=patient,
    )


async def test_audit_log_queries_are_index_lookups(
    recorded: tuple[MongoClient, Recorder], unique: str
) -> None:
    """The auditor's reads: the log by actor, patient, type, request and period (alone and for
    a site), one event and its chain of causes, a patient's access report and accounting."""
    client, recorder = recorded
    store = MongoDocumentStore(client[unique])
    projection = AuditLogProjection()
    view = View(store, 1, NewDocuments(fresh=True))
    for n in range(DOCUMENTS):
        await projection.apply(*audited(n), view)
    await view.flush()
    read_models = ReadModels(store)
    await read_models.set_generation(projection.name, 1)

    recorder.commands.clear()
    queries = AuditQueries(read_models)
    start = datetime(2026, 11, 1, 10, tzinfo=UTC)
    end = start + timedelta(hours=1)
    assert await queries.log("acme", None, {"actor": "user-7"}, None, None, 100)
    assert await queries.log("acme", None, {"patient": "p7"}, None, None, 100)
    assert await queries.log("acme", None, {"type": Flagged.type_name()}, None, None, 10)
    assert len(await queries.log("acme", None, {"correlation_id": "c5"}, None, None, 10)) == 3
    assert len(await queries.log("acme", None, {}, start, end, 1000)) == 60
    assert await queries.log("acme", ["site-1", "site-2"], {}, start, None, 10)
    root = await queries.entry("acme", "a15")
    assert root is not None
    chain = await queries.chain("acme", root, lambda _: True)
    assert [e["event_id"] for e in chain.entries] == ["a15", "a16", "a17"]
    six_years = datetime(2020, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    report = await queries.patient_trail("acme", "p9", *six_years, limit=3)
    assert len(report.entries) == 3
    assert report.next_after is not None
    assert await queries.patient_trail("acme", "p9", *six_years, after=report.next_after)
    accounted = await queries.patient_trail("acme", "p18", *six_years, disclosures=True)
    assert accounted.entries
    # The generation's one-row registry, which a planner rightly reads whole, is not the test.
    recorder.commands = [c for c in recorder.commands if c.get("find") != "rm__projections"]
    assert recorder.commands

    assert await check_recorded(client, unique, recorder) == []


def test_problems_reads_each_servers_plans() -> None:
    """The plan readers themselves, on plans as each server words them."""
    find = {"find": "c", "filter": {"_id": 1}}
    mongo_scan = {
        "queryPlanner": {"winningPlan": {"stage": "LIMIT", "inputStage": {"stage": "COLLSCAN"}}}
    }
    mongo_ix = {
        "queryPlanner": {"winningPlan": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN"}}}
    }
    assert problems("mongodb", find, mongo_scan)
    assert problems("mongodb", find, mongo_ix) == []
    assert (
        problems("mongodb", find, {"queryPlanner": {"winningPlan": {"stage": "EXPRESS_IXSCAN"}}})
        == []
    )
    seq = {"Plan": {"Node Type": "Seq Scan", "Relation Name": "c_1"}}
    bitmap = {
        "Plan": {
            "Node Type": "Bitmap Heap Scan",
            "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "c_1_gin"}],
        }
    }
    assert problems("ferretdb", find, {"queryPlanner": seq, "filterPushdown": True})
    assert problems("ferretdb", find, {"queryPlanner": bitmap, "filterPushdown": True}) == []
    assert problems("ferretdb", find, {"queryPlanner": bitmap, "filterPushdown": False})
    assert lookup_fields({"_id": {"$gt": 1}, "a": 1, "b": {"$in": [1]}, "c": {"$lt": 2}}) == {
        "_id",
        "a",
        "b",
    }


async def test_receivables_reads_are_index_lookups(
    recorded: tuple[MongoClient, Recorder], unique: str
) -> None:
    """Billing's receivables (issue 13), fed, its monthly snapshots built, then every read of
    the aging, balances, current balances and KPIs and of building the snapshots: each by ids,
    or entries by their days (with the range of ids the days span, which SQLite serves). Not
    here: the snapshot timer's list of tenants, a walk by `_id` over the marks (one document
    per tenant and month), which FerretDB cannot push down."""
    client, recorder = recorded
    store = MongoDocumentStore(client[unique])
    projection = ReceivablesProjection()
    start = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)
    for batch in batched(workload(600, start=start, days=120), 500):
        unit = View(store, 1)
        events = [registry.decode(e) for e in batch]
        await unit.prefetch(
            key for e, env in zip(events, batch, strict=True) for key in projection.keys(e, env)
        )
        for event, envelope in zip(events, batch, strict=True):
            await projection.apply(event, envelope, unit)
        await unit.flush()

    await ReadModels(store).set_generation(ReceivablesProjection.name, 1)  # as a runner has
    # Other tenants' documents in the small collections (a tenant has one mark and one
    # snapshot a month): enough that no planner finds a scan cheaper than an index.
    for collection in (MARKS, SNAPSHOTS, SNAPSHOT_ROWS, KPIS, "_projections"):
        name = collection if collection == "_projections" else physical(collection, 1)
        padding = [
            Write(f"pad-{n}:2026-10", {"tenant": f"pad-{n}", "month": "2026-10", "n": n})
            for n in range(DOCUMENTS)
        ]
        assert await store.write(name, padding) == []

    recorder.commands.clear()  # the feeding: the projection's own reads, by id
    receivables = Receivables(ReadModels(store))
    assert await receivables.take_snapshots(T, "2026-10") == 4
    assert await receivables.take_snapshots(T, "2026-10") == 0
    for as_of in (date(2026, 9, 30), date(2026, 10, 17), date(2026, 11, 1)):
        assert (await receivables.aging(T, as_of)).total_cents > 0
        assert (await receivables.aging(T, as_of, "patient")).owners
        assert (await receivables.balances(T, as_of, "site"))["balances"]
    assert await receivables.current(T, "payer:aetna") > 0
    kpis = await Kpis(ReadModels(store), receivables).of(T, "site-1", "2026-10")
    assert kpis["counts"]["charges_cents"] > 0


async def test_alert_and_monitor_queries_are_index_lookups(
    recorded: tuple[MongoClient, Recorder], unique: str
) -> None:
    """The compliance alerts' list (by tenant, site, monitor, open or closed) and the
    volume monitor's count of a reader's hour (at every read). The timed monitors' sweeps of
    their watch (a range of dates, hourly) are not hot queries."""
    client, recorder = recorded
    store = MongoDocumentStore(client[unique])
    alerts = [
        Write(
            f"acme:alert-{n}",
            {
                "tenant": "acme",
                "alert_id": f"alert-{n}",
                "monitor": f"monitor_{n % 20}",
                "site": f"site-{n % 50}",
                "open": n % 30 == 0,
                "raised_at": f"2026-12-{n % 28 + 1:02d}T09:00:00+00:00",
                "summary": "y" * 300,
            },
        )
        for n in range(DOCUMENTS)
    ]
    listed = physical(ALERTS, 1)  # generation 1, as served before any rebuild
    assert await store.write(listed, alerts) == []
    reads = [
        Write(f"acme:read-{n}", {"tenant": "acme", "reader": f"r{n % 40}", "hour": f"h{n % 24}"})
        for n in range(DOCUMENTS)
    ]
    assert await store.write(READS, reads) == []

    recorder.commands.clear()
    for where in (
        alerts_where("acme", status="open"),  # the officer's queue: a few among many closed
        alerts_where("acme", sites=["site-3"]),
        alerts_where("acme", monitor="monitor_7"),
        alerts_where("acme", sites=["site-3"], monitor="monitor_3", status="closed"),
    ):
        assert await store.find(listed, where, sort=NEWEST_FIRST, limit=20)
    assert await store.find(READS, {"tenant": "acme", "reader": "r7", "hour": "h7"})
    assert recorder.commands

    assert await check_recorded(client, unique, recorder) == []
