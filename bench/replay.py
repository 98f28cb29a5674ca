"""Replay: a projection catching up from the start of the bus into the document store.

The events are published first (timed on its own and printed, never part of the replay figure),
then a ProjectionRunner starts a new consumer group and the clock runs until the runner's lag
reads 0. The projection is the real AppointmentsProjection: one document per appointment.

The raw limit is the same path with nothing of ours on it: the same records read with the
plain client and the very documents our projection wrote, inserted in batches of the runner's
size. No decoding, no version guards, no offsets committed: bytes in, documents out.

Embedded, the raw path runs right after each of ours (after the catch-up, and again after the
rebuild), each into a new file, and each of ours is compared with the raw run beside it: other
work on a shared machine then weighs on both sides of a ratio alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.heap import fixtures_frozen
from bench.report import Figure
from services.scheduling.domain.events import registry
from services.scheduling.projections.appointments import APPOINTMENTS, AppointmentsProjection
from services.scheduling.projections.day_views import PROVIDER_DAYS, ProviderScheduleProjection
from shared.bus.inprocess import InProcessBus
from shared.bus.port import Bus
from shared.cloudevents import Message, events_topic, to_message
from shared.documents.port import DocumentStore
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import Envelope
from shared.projections import Projection, ProjectionRunner
from shared.readmodels import ReadModels, physical
from shared.sqlite import Durability, SqliteDatabase

BATCH = 500  # the outbox relay's publish batch and the runner's max_batch
# Lag readings are queries on the bus, so they are spaced out: every LAG_POLL_MAX at first, then
# at a quarter of the remaining time the progress so far predicts, down to LAG_POLL_MIN, which
# is the replay figure's resolution.
LAG_POLL_MIN = 0.05
LAG_POLL_MAX = 1.0

PROJECTIONS: dict[str, tuple[Callable[[], Projection], str]] = {
    "appointments": (AppointmentsProjection, APPOINTMENTS),
    "provider_schedule": (ProviderScheduleProjection, PROVIDER_DAYS),
}


@dataclass
class ReplayFigures:
    backend: str
    publish: Figure
    raw_publish: Figure
    replays: dict[str, Figure] = field(default_factory=dict)
    rebuilds: dict[str, Figure] = field(default_factory=dict)
    raw_replay: Figure | None = None
    raw_rebuild: Figure | None = None  # the raw path again, run right after the rebuild
    documents: dict[str, int] = field(default_factory=dict)


def fastest(rounds: Sequence[ReplayFigures]) -> ReplayFigures:
    """One set of figures from several rounds of the same measurement: each the fastest seen
    (the one other work on the machine disturbed least)."""

    def best(figures: Sequence[Figure | None]) -> Figure | None:
        present = [f for f in figures if f is not None]
        return min(present, key=lambda f: f.seconds) if present else None

    def best_of(figures: Sequence[Figure]) -> Figure:
        return min(figures, key=lambda f: f.seconds)

    first = rounds[0]
    return ReplayFigures(
        first.backend,
        best_of([r.publish for r in rounds]),
        best_of([r.raw_publish for r in rounds]),
        {n: best_of([r.replays[n] for r in rounds]) for n in first.replays},
        {n: best_of([r.rebuilds[n] for r in rounds]) for n in first.rebuilds},
        best([r.raw_replay for r in rounds]),
        best([r.raw_rebuild for r in rounds]),
        first.documents,
    )


def batches(items: Sequence[Any], size: int = BATCH) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def publish(bus: Bus, messages: Sequence[Message]) -> float:
    started = time.perf_counter()
    for batch in batches(messages):
        await bus.publish(batch)
    return time.perf_counter() - started


REBUILT = 2  # the generation a rebuild of a first generation fills


async def rebuild(projection: Projection, store: DocumentStore, bus: Bus, topic: str) -> float:
    """Seconds for `ProjectionRunner.rebuild`: replay into a shadow generation, then switch."""
    runner = ProjectionRunner(
        projection, ReadModels(store), bus, registry, lambda _: topic, max_batch=BATCH
    )
    started = time.perf_counter()
    await runner.rebuild(timeout=3600, poll=LAG_POLL_MIN)
    return time.perf_counter() - started


async def replay(projection: Projection, store: DocumentStore, bus: Bus, topic: str) -> float:
    """Seconds from the runner's start until its lag reads 0 (within LAG_POLL_MIN)."""
    runner = ProjectionRunner(
        projection, ReadModels(store), bus, registry, lambda _: topic, max_batch=BATCH
    )
    started = time.perf_counter()
    await runner.start()
    try:
        first = await runner.lag()
        lag = first
        while lag > 0:
            elapsed = time.perf_counter() - started
            done = first - lag
            remaining = elapsed * lag / done if done > 0 else LAG_POLL_MAX
            await asyncio.sleep(min(LAG_POLL_MAX, max(LAG_POLL_MIN, remaining / 4)))
            lag = await runner.lag()
        seconds = time.perf_counter() - started
    finally:
        await runner.stop()
    return seconds


async def replay_each(
    projections: Sequence[str],
    store: DocumentStore,
    bus: Bus,
    topic: str,
    label: str,
    result: ReplayFigures,
    after: Callable[[str, int], None] | None = None,
) -> None:
    """Replay the topic into each named projection in turn, recording figures in `result`;
    `after(name, generation)` runs after the catch-up (generation 1) and the rebuild."""
    for name in projections:
        make, collection = PROJECTIONS[name]
        seconds = await replay(make(), store, bus, topic)
        result.documents[name] = await store.count(physical(collection, 1))
        result.replays[name] = Figure(
            f"catch-up -> {name}",
            label,
            result.publish.events,
            seconds,
            f"{result.documents[name]:,} docs",
        )
        if after is not None:
            after(name, 1)
        seconds = await rebuild(make(), store, bus, topic)
        rebuilt = await store.count(physical(collection, REBUILT))
        result.rebuilds[name] = Figure(
            f"rebuild -> {name}", label, result.publish.events, seconds, f"{rebuilt:,} docs"
        )
        if after is not None:
            after(name, REBUILT)


async def embedded(
    envelopes: Sequence[Envelope],
    durability: Durability,
    directory: Path,
    projections: Sequence[str],
) -> ReplayFigures:
    topic = events_topic("scheduling", "bench.")
    messages = [to_message(e, topic) for e in envelopes]
    n = len(messages)
    bus = InProcessBus(SqliteDatabase(directory / "bus.db", durability))
    docs_db = SqliteDatabase(directory / "readmodels.db", durability)
    store = SqliteDocumentStore(docs_db)
    try:
        seconds = await publish(bus, messages)
        result = ReplayFigures(
            "embedded",
            Figure("publish", "embedded: ours InProcessBus", n, seconds, f"batches of {BATCH}"),
            Figure(
                "publish",
                "embedded: raw sqlite3 executemany",
                n,
                raw_sqlite_publish(messages, directory / "raw-bus.db", durability),
                f"batches of {BATCH}",
            ),
        )

        def raw_beside(name: str, generation: int) -> None:
            """The raw path into a new file, with the documents this generation holds."""
            if name != "appointments":
                return
            bodies = docs_db.run_sync(
                lambda conn: conn.execute(
                    "SELECT id, rev, body FROM documents WHERE collection = ?",
                    (physical(APPOINTMENTS, generation),),
                ).fetchall()
            )
            by_id = {row[0]: row for row in bodies}
            rows = [by_id[f"{e.tenant}:{e.data['appointment_id']}"] for e in envelopes]
            after = "rebuild" if generation > 1 else "catch-up"
            figure = Figure(
                f"replay -> appointments (after {after})",
                "embedded: raw sqlite3 read + executemany",
                n,
                raw_sqlite_replay(
                    directory / "bus.db", topic, rows, directory / f"raw-g{generation}", durability
                ),
                f"{len(rows):,} docs",
            )
            if generation == 1:
                result.raw_replay = figure
            else:
                result.raw_rebuild = figure

        with fixtures_frozen():
            label = "embedded: ours ProjectionRunner"
            await replay_each(projections, store, bus, topic, label, result, raw_beside)
    finally:
        await bus.stop()
        await store.close()
    return result


def _sqlite(path: Path, durability: Durability) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={durability.upper()}")
    return conn


def raw_sqlite_publish(messages: Sequence[Message], path: Path, durability: Durability) -> float:
    """The bus's own table, filled with executemany in the same batches and durability."""
    rows = [
        (m.topic, offset, m.key, json.dumps(m.headers), m.value)
        for offset, m in enumerate(messages)
    ]
    with contextlib.closing(_sqlite(path, durability)) as conn:
        conn.execute(
            "CREATE TABLE records (topic TEXT NOT NULL, offset INTEGER NOT NULL,"
            " key TEXT NOT NULL, headers TEXT NOT NULL, value BLOB NOT NULL,"
            " PRIMARY KEY (topic, offset)) WITHOUT ROWID"
        )
        started = time.perf_counter()
        for batch in batches(rows):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?)", batch)
            conn.execute("COMMIT")
        return time.perf_counter() - started


def raw_sqlite_replay(
    bus_path: Path,
    topic: str,
    documents: Sequence[tuple[str, int, str]],
    directory: Path,
    durability: Durability,
) -> float:
    """Read the bus's records in batches; write the same documents with executemany."""
    collection = "raw_appointments"
    directory.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(_sqlite(bus_path, durability)) as source,
        contextlib.closing(_sqlite(directory / "raw-readmodels.db", durability)) as target,
    ):
        target.execute(
            "CREATE TABLE documents (collection TEXT NOT NULL, id TEXT NOT NULL,"
            " rev INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (collection, id))"
            " WITHOUT ROWID"
        )
        started = time.perf_counter()
        offset = 0
        while True:
            records = source.execute(
                "SELECT offset, key, headers, value FROM records"
                " WHERE topic = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (topic, offset, BATCH),
            ).fetchall()
            if not records:
                break
            first, offset = records[0][0], records[-1][0] + 1
            target.execute("BEGIN IMMEDIATE")
            target.executemany(
                "INSERT INTO documents VALUES (?, ?, ?, ?)",
                [(collection, *doc) for doc in documents[first:offset]],
            )
            target.execute("COMMIT")
        seconds = time.perf_counter() - started
    assert offset == len(documents), f"raw replay read {offset} of {len(documents)} records"
    return seconds
