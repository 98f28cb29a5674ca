"""The scale-out figures: MongoDB (event store, documents) and Kafka (bus), from the env vars.

Everything made here is the run's own and removed at the end: one database named
`bench_<hex>` per measurement (dropped), and topics under the namespace `bench-<hex>.`
(deleted). Nothing else on the servers is read or touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import ASCENDING, AsyncMongoClient

from bench.append import ours
from bench.replay import BATCH, REBUILT, ReplayFigures, batches, publish, replay_each
from bench.report import Figure
from services.scheduling.projections.appointments import APPOINTMENTS
from shared.cloudevents import Message, events_topic, to_message
from shared.events import Envelope
from shared.readmodels import physical

PARTITIONS = 3  # KafkaBus's default for the topics it creates


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@contextlib.asynccontextmanager
async def scratch_database(url: str) -> AsyncIterator[tuple[AsyncMongoClient[Any], str]]:
    """A database of our own, dropped afterwards whatever happens."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(url, serverSelectionTimeoutMS=5000)
    name = unique("bench_")
    try:
        yield client, name
    finally:
        with contextlib.suppress(Exception):
            await client.drop_database(name)
        await client.close()


async def describe_server(url: str) -> str:
    client: AsyncMongoClient[Any] = AsyncMongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        info = await client.admin.command("buildInfo")
    finally:
        await client.close()
    if "ferretdbVersion" in info:
        backend = await ferretdb_backend(url)
        return (
            f"FerretDB {info['ferretdbVersion']} on {backend} "
            f"(reports MongoDB {info.get('version')})"
        )
    return f"MongoDB {info.get('version')}"


async def ferretdb_backend(url: str) -> str:
    """PostgreSQL or SQLite: FerretDB's explain gives the plan of the database below it."""
    async with scratch_database(url) as (client, name):
        collection = client[name]["probe"]
        await collection.insert_one({"_id": 1})
        explained = await client[name].command("explain", {"find": "probe", "filter": {"_id": 1}})
    return "PostgreSQL" if "Plan" in explained.get("queryPlanner", {}) else "SQLite"


async def append_mongo(envelopes: Sequence[Envelope], url: str) -> list[Figure]:
    """Ours through MongoEventStore, and plain pymongo insert_one of commit-shaped documents
    into a collection with the same unique (stream, version) guard, one per event."""
    from shared.eventstore.mongo import open_mongo_event_store

    n = len(envelopes)
    async with scratch_database(url) as (client, database):
        store = await open_mongo_event_store(url, database)
        try:
            seconds = await ours(store, envelopes)
        finally:
            await store.close()
        figures = [
            Figure(
                "append, 1 event/commit",
                "mongo: ours MongoEventStore",
                n,
                seconds,
                "default write concern",
            )
        ]

        raw = client[database]["raw_commits"]
        await raw.create_index([("stream", ASCENDING), ("first_version", ASCENDING)], unique=True)
        documents = [
            {
                "_id": position,
                "stream": e.stream,
                "first_version": e.stream_version,
                "last_version": e.stream_version,
                "events": [e.model_dump(mode="json", exclude={"position"})],
                "published": False,
            }
            for position, e in enumerate(envelopes, start=1)
        ]
        started = time.perf_counter()
        for document in documents:
            await raw.insert_one(document)
        figures.append(
            Figure(
                "append, 1 event/commit",
                "mongo: raw pymongo insert_one",
                n,
                time.perf_counter() - started,
                "default write concern",
            )
        )
    return figures


async def replay_scale_out(
    envelopes: Sequence[Envelope], bootstrap: str, url: str, projections: Sequence[str]
) -> ReplayFigures:
    from shared.bus.kafka import KafkaBus
    from shared.documents.mongo import open_mongo_document_store

    namespace = unique("bench-") + "."
    topic = events_topic("scheduling", namespace)
    raw_topic = events_topic("scheduling", namespace + "raw.")
    messages = [to_message(e, topic) for e in envelopes]
    n = len(messages)
    bus = KafkaBus(bootstrap, client_id="medoffice-bench", partitions=PARTITIONS)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="medoffice-bench")
    await admin.start()
    try:
        await bus.start()
        async with scratch_database(url) as (client, database):
            seconds = await publish(bus, messages)
            await admin.create_topics([NewTopic(raw_topic, PARTITIONS, 1)])
            result = ReplayFigures(
                "scale-out",
                Figure("publish", "kafka: ours KafkaBus", n, seconds, f"batches of {BATCH}"),
                Figure(
                    "publish",
                    "kafka: raw aiokafka producer",
                    n,
                    await raw_produce(bootstrap, raw_topic, messages),
                    f"batches of {BATCH}, acks=all, idempotent",
                ),
            )
            store = await open_mongo_document_store(url, database)
            try:
                await replay_each(
                    projections, store, bus, topic, "kafka+mongo: ours ProjectionRunner", result
                )
                if "appointments" in projections:
                    written = await store.find(physical(APPOINTMENTS, REBUILT))
            finally:
                await store.close()
            if "appointments" in projections:
                by_subject = {doc["appointment_id"]: doc for doc in written}
                seconds = await raw_consume_insert(
                    bootstrap, raw_topic, by_subject, client[database]["raw_appointments"], n
                )
                result.raw_replay = Figure(
                    "replay -> appointments",
                    "kafka+mongo: raw aiokafka + insert_many",
                    n,
                    seconds,
                    f"{len(by_subject):,} docs",
                )
    finally:
        await bus.stop()
        await delete_topics(admin, namespace)
        await admin.close()
    return result


async def raw_produce(bootstrap: str, topic: str, messages: Sequence[Message]) -> float:
    """The same records with a plain producer at the bus's settings: send a batch, await it."""
    records = [
        (m.value, m.key.encode(), [(k, v.encode()) for k, v in m.headers.items()]) for m in messages
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        started = time.perf_counter()
        for batch in batches(records):
            sent = [
                await producer.send(topic, value, key=key, headers=headers)
                for value, key, headers in batch
            ]
            await asyncio.gather(*sent)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def raw_consume_insert(
    bootstrap: str,
    topic: str,
    by_subject: dict[str, dict[str, Any]],
    collection: Any,
    expected: int,
) -> float:
    """Consume from the beginning with a plain group-less consumer; insert_many the documents
    our projection wrote for those records, one call per fetched batch (at most BATCH)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    started = time.perf_counter()
    await consumer.start()
    seen = 0
    try:
        while seen < expected:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
            records = [r for partition in fetched.values() for r in partition]
            if not records:
                continue
            documents = [by_subject[_subject(r.headers)] for r in records]
            await collection.insert_many(documents)
            seen += len(records)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def _subject(headers: Sequence[tuple[str, bytes]]) -> str:
    for name, value in headers:
        if name == "ce_subject":
            return value.decode()
    raise KeyError("ce_subject")


async def delete_topics(admin: AIOKafkaAdminClient, namespace: str) -> None:
    """Delete the topics this run made: only names under its own namespace."""
    with contextlib.suppress(Exception):
        ours_only = [t for t in await admin.list_topics() if t.startswith(namespace)]
        if ours_only:
            await admin.delete_topics(ours_only)


__all__ = ["append_mongo", "replay_scale_out"]
