"""Append throughput: one event per commit, each commit to its stream at the expected version.

Ours goes through the EventStore port (`append(stream, [envelope], expected_version)`), the
way the command handler calls it. The baseline is the `eventsourcing` library (9.5.x) on its
SQLite store, two ways:

- `Application.save()` of an aggregate holding one new event: the library's ordinary write path
  (event object -> mapper -> JSON transcoder -> SQLite recorder, one transaction per save);
- `SQLiteApplicationRecorder.insert_events()` with one pre-encoded StoredEvent whose state is
  the very bytes we store for the envelope: the library's store alone, no encoding at all.

Both sides run WAL with the same `synchronous` setting, read back from the connection and
printed. The library sets only `journal_mode=WAL`, so its connections get SQLite's default
synchronous (FULL) unless we set NORMAL on each one it opens.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteDatastore,
)

from bench.report import Figure
from shared.events import Envelope
from shared.eventstore.codec import encode_events
from shared.eventstore.port import EventStore
from shared.eventstore.sqlite import SqliteEventStore
from shared.sqlite import Durability, SqliteDatabase

SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
STREAM_NAMESPACE = uuid.UUID("6f1c2a8e-4a59-4b1e-9d1a-0c3f7d5b2e11")


async def ours(store: EventStore, envelopes: Sequence[Envelope]) -> float:
    """Seconds to append every envelope as its own commit."""
    started = time.perf_counter()
    for envelope in envelopes:
        await store.append(envelope.stream, [envelope], envelope.stream_version - 1)
    return time.perf_counter() - started


async def ours_sqlite(
    envelopes: Sequence[Envelope],
    durability: Durability,
    directory: Path,
    warmup: Sequence[Envelope] = (),
) -> Figure:
    if warmup:
        await ours_sqlite(warmup, durability, directory / "warmup")
    db = SqliteDatabase(directory / f"ours-{durability}.db", durability)
    mode = db.run_sync(lambda conn: conn.execute("PRAGMA synchronous").fetchone()[0])
    store = SqliteEventStore(db)
    try:
        seconds = await ours(store, envelopes)
    finally:
        await store.close()
    return Figure(
        "append, 1 event/commit",
        "embedded: ours SqliteEventStore",
        len(envelopes),
        seconds,
        f"WAL, synchronous={SYNCHRONOUS[mode]}",
    )


@contextlib.contextmanager
def library_synchronous(durability: Durability) -> Iterator[None]:
    """Every connection the library's pool opens meanwhile gets `synchronous=<durability>`."""
    original = SQLiteConnectionPool._create_connection

    def create(pool: SQLiteConnectionPool) -> SQLiteConnection:
        connection = original(pool)
        connection._sqlite_conn.execute(f"PRAGMA synchronous={durability.upper()}")
        return connection

    SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SQLiteConnectionPool._create_connection = original  # type: ignore[method-assign]


def library_mode(datastore: SQLiteDatastore) -> str:
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        return SYNCHRONOUS[int(cursor.fetchone()[0])]


def library_recorder(
    envelopes: Sequence[Envelope],
    durability: Durability,
    directory: Path,
    warmup: Sequence[Envelope] = (),
) -> Figure:
    """The library's SQLite store alone: one pre-encoded StoredEvent per insert_events call."""
    if warmup:
        library_recorder(warmup, durability, _scratch(directory))
    stored = [
        StoredEvent(
            originator_id=e.stream,
            originator_version=e.stream_version,
            topic="bench.append:" + e.type,
            state=encode_events([e]).encode(),
        )
        for e in envelopes
    ]
    with library_synchronous(durability):
        datastore = SQLiteDatastore(
            str(directory / f"library-recorder-{durability}.db"), originator_id_type="text"
        )
        recorder = SQLiteApplicationRecorder(datastore)
        recorder.create_table()
        mode = library_mode(datastore)
        started = time.perf_counter()
        for event in stored:
            recorder.insert_events([event])
        seconds = time.perf_counter() - started
        datastore.close()
    return Figure(
        "append, 1 event/commit",
        "eventsourcing SQLiteApplicationRecorder",
        len(envelopes),
        seconds,
        f"WAL, synchronous={mode}; pre-encoded, {_mean(stored)} B/event",
    )


class ProviderDay(Aggregate):
    """A provider's day in the library's terms: each booking is one event with the same
    attributes as our envelope (minus what the library records itself: id, version, time)."""

    class Opened(Aggregate.Created):
        stream: str

    class AppointmentBooked(Aggregate.Event):
        attributes: dict[str, Any]
        data: dict[str, Any]

    @staticmethod
    def create_id(stream: str) -> uuid.UUID:
        return uuid.uuid5(STREAM_NAMESPACE, stream)

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.bookings = 0

    def book(self, envelope: Envelope) -> None:
        attributes = envelope.model_dump(
            mode="json",
            exclude={"data", "stream", "stream_version", "time", "position", "id"},
        )
        self.trigger_event(self.AppointmentBooked, attributes=attributes, data=envelope.data)


def library_application(
    envelopes: Sequence[Envelope],
    durability: Durability,
    directory: Path,
    warmup: Sequence[Envelope] = (),
) -> Figure:
    """The library's ordinary write path: `save()` of an aggregate with one new event.

    Every provider day is opened (its Created event) before the clock starts, in the same
    store, so the timed saves carry exactly one event each."""
    if warmup:
        library_application(warmup, durability, _scratch(directory))
    path = directory / f"library-application-{durability}.db"
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "IS_SNAPSHOTTING_ENABLED": "n",
    }
    with library_synchronous(durability):
        app: Application[uuid.UUID] = Application(env=env)
        days: dict[str, ProviderDay] = {}
        for e in envelopes:
            if e.stream not in days:
                days[e.stream] = ProviderDay(e.stream)
        app.save(*days.values())
        datastore = getattr(app.recorder, "datastore", None)
        assert isinstance(datastore, SQLiteDatastore)
        mode = library_mode(datastore)
        started = time.perf_counter()
        for e in envelopes:
            day = days[e.stream]
            day.book(e)
            app.save(day)
        seconds = time.perf_counter() - started
        size = _stored_size(path, skip=len(days))
        app.close()
    return Figure(
        "append, 1 event/commit",
        "eventsourcing Application.save",
        len(envelopes),
        seconds,
        f"WAL, synchronous={mode}; {size} B/event",
    )


def stored_size_ours(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT AVG(LENGTH(events)) FROM commits").fetchone()
    return round(row[0] or 0)


def _stored_size(path: Path, skip: int) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        row = conn.execute(
            "SELECT AVG(LENGTH(state)) FROM stored_events WHERE rowid > ?", (skip,)
        ).fetchone()
    return round(row[0] or 0)


def _scratch(directory: Path) -> Path:
    scratch = directory / "warmup"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def _mean(stored: Sequence[StoredEvent]) -> int:
    return round(sum(len(s.state) for s in stored) / max(1, len(stored)))


def payload_bytes(envelopes: Sequence[Envelope]) -> int:
    return round(
        sum(len(json.dumps(e.data, separators=(",", ":"))) for e in envelopes[:1000])
        / max(1, min(1000, len(envelopes)))
    )
