"""The embedded bus: an append-only log per topic in SQLite, with durable group offsets.

It behaves like a one-partition Kafka topic: ordered, durable, replayable from the start, and
several processes on one machine may share the file.

Records are durable when `publish` returns (at the database's durability, synchronous=FULL by
default). A group's offsets are committed without waiting for an fsync of their own (the next
durable commit on the file carries them): after a power cut a group may resume a little
earlier, which at-least-once delivery allows and idempotent handlers absorb, and a replay
pays one fsync per batch (its documents') instead of two.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

import structlog

from shared import fastjson
from shared.bus.port import BadPosition, MessageHandler, ReadPage, ReadRecord
from shared.cloudevents import Message
from shared.sqlite import SqliteDatabase, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    offset INTEGER NOT NULL,
    key TEXT NOT NULL,
    headers TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (topic, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic)
) WITHOUT ROWID;
"""

log = structlog.get_logger(__name__)

_NORMAL = 1  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


class InProcessSubscription:
    """One consumer's task, and the stop flag its loop reads every turn: a handler (a client
    library's call inside it) may swallow the CancelledError, and the loop would then carry
    on consuming for ever while `stop` waits on it."""

    def __init__(self, task: asyncio.Task[None], stopping: asyncio.Event) -> None:
        self._task = task
        self._stopping = stopping

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def stop(self) -> None:
        self._stopping.set()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class InProcessBus:
    def __init__(
        self, db: SqliteDatabase, poll_interval: float = 0.5, retry_delay: float = 1.0
    ) -> None:
        self._db = db
        self._poll_interval = poll_interval
        self._retry_delay = retry_delay
        # Set (and replaced) on every publish. An Event, not a Condition: cancelling a
        # wait_for on Condition.wait can hang on Python 3.11 while it re-acquires the lock,
        # which stalled stop().
        self._published = asyncio.Event()
        self._subscriptions: set[InProcessSubscription] = set()
        self._following = 0
        self._stopped = False
        db.run_sync(lambda conn: conn.executescript(_SCHEMA))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        # Consumers first: they read the database that closes next. Watchers end their
        # iteration at their next wake-up, which the event set here is.
        self._stopped = True
        self._published.set()
        for subscription in list(self._subscriptions):
            await subscription.stop()
        self._subscriptions.clear()
        await self._db.close()

    async def publish(self, messages: Sequence[Message]) -> None:
        if not messages:
            return

        def append(conn: sqlite3.Connection) -> None:
            next_offsets: dict[str, int] = {}
            for m in messages:
                if m.topic not in next_offsets:
                    row = conn.execute(
                        "SELECT COALESCE(MAX(offset) + 1, 0) FROM records WHERE topic = ?",
                        (m.topic,),
                    ).fetchone()
                    next_offsets[m.topic] = row[0]
                conn.execute(
                    "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                    (
                        m.topic,
                        next_offsets[m.topic],
                        m.key,
                        fastjson.dumps_text(m.headers),
                        m.value,
                    ),
                )
                next_offsets[m.topic] += 1

        await self._db.run(lambda conn: transaction(conn, append))
        published, self._published = self._published, asyncio.Event()
        published.set()

    async def subscribe(
        self,
        group: str,
        topics: Sequence[str],
        handler: MessageHandler,
        *,
        max_batch: int = 500,
    ) -> InProcessSubscription:
        stopping = asyncio.Event()
        task = asyncio.create_task(self._consume(group, list(topics), handler, max_batch, stopping))
        subscription = InProcessSubscription(task, stopping)
        self._subscriptions.add(subscription)
        return subscription

    async def lag(self, group: str, topics: Sequence[str]) -> int:
        def count(conn: sqlite3.Connection) -> int:
            total = 0
            for topic in topics:
                # A topic's offsets run from 0 without gaps (publish takes the next, nothing
                # deletes): the end offset less the committed one, one index lookup instead of
                # counting the rows between (a rebuild asks every fifth of a second).
                committed = _committed(conn, group, topic)
                row = conn.execute(
                    "SELECT COALESCE(MAX(offset) + 1, 0) FROM records WHERE topic = ?", (topic,)
                ).fetchone()
                total += max(0, row[0] - committed)
            return total

        return await self._db.run(count)

    async def read(self, topic: str, after: str | None, limit: int) -> ReadPage:
        # One partition: a position is the next offset to read, as decimal text.
        start = _offset_of(after)
        limit = max(1, limit)

        def fetch(conn: sqlite3.Connection) -> tuple[list[Message], int]:
            rows = conn.execute(
                "SELECT offset, key, headers, value FROM records"
                " WHERE topic = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (topic, start, limit),
            ).fetchall()
            end = conn.execute(
                "SELECT COALESCE(MAX(offset) + 1, 0) FROM records WHERE topic = ?", (topic,)
            ).fetchone()[0]
            return [_message(topic, *row) for row in rows], int(end)

        messages, end = await self._db.run(fetch)
        records = tuple(ReadRecord(m, str(_offset(m) + 1)) for m in messages)
        position = records[-1].position if records else after
        next_offset = _offset(messages[-1]) + 1 if messages else start
        return ReadPage(records, position, at_end=next_offset >= end)

    async def ping(self) -> None:
        await self._db.run(lambda conn: conn.execute("SELECT 1").fetchone())

    @contextlib.asynccontextmanager
    async def follow(self, topics: Sequence[str]) -> AsyncIterator[AsyncIterator[Message]]:
        topics = list(topics)
        start = await self._db.run(lambda conn: {t: _end(conn, t) for t in topics})
        records = self._records(start)
        self._following += 1
        try:
            yield records
        finally:
            self._following -= 1
            await records.aclose()

    @property
    def following(self) -> int:
        return self._following

    async def _records(self, next_offsets: dict[str, int]) -> AsyncGenerator[Message, None]:
        """Woken by each publish of this process; another process's publish (the file may be
        shared) is seen within the poll interval."""
        ready: deque[Message] = deque()
        while not self._stopped:
            if ready:
                yield ready.popleft()
                continue
            published = self._published  # before the fetch: no publish goes unnoticed
            batch = await self._db.run(lambda conn: _fetch_from(conn, next_offsets, 500))
            if batch:
                for m in batch:
                    assert m.offset is not None
                    next_offsets[m.topic] = m.offset + 1
                ready.extend(batch)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval):
                    await published.wait()

    async def _consume(
        self,
        group: str,
        topics: list[str],
        handler: MessageHandler,
        max_batch: int,
        stopping: asyncio.Event,
    ) -> None:
        while not stopping.is_set():
            # Taken before the fetch: a publish after it sets this very event, so no wake-up
            # is lost.
            published = self._published
            batch = await self._db.run(lambda conn: _fetch(conn, group, topics, max_batch))
            if not batch:
                # Not `asyncio.wait_for`: on 3.11 it loses a cancellation that arrives as the
                # publish does, and `stop` then waits forever for a consumer that carries on.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await published.wait()
                continue
            try:
                await handler(batch)
            except Exception as exc:  # noqa: BLE001 - not acked: the batch comes again
                log.warning("consumer_batch_failed", group=group, error_type=type(exc).__name__)
                with contextlib.suppress(TimeoutError):  # a stop ends the pause at once
                    async with asyncio.timeout(self._retry_delay):
                        await stopping.wait()
                continue
            await self._db.run(functools.partial(_commit, group=group, batch=batch))


def _committed(conn: sqlite3.Connection, group: str, topic: str) -> int:
    row = conn.execute(
        "SELECT next_offset FROM group_offsets WHERE grp = ? AND topic = ?", (group, topic)
    ).fetchone()
    return 0 if row is None else int(row[0])


def _end(conn: sqlite3.Connection, topic: str) -> int:
    row = conn.execute(
        "SELECT COALESCE(MAX(offset) + 1, 0) FROM records WHERE topic = ?", (topic,)
    ).fetchone()
    return int(row[0])


def _fetch(
    conn: sqlite3.Connection, group: str, topics: list[str], max_batch: int
) -> list[Message]:
    return _fetch_from(conn, {t: _committed(conn, group, t) for t in topics}, max_batch)


def _fetch_from(
    conn: sqlite3.Connection, next_offsets: dict[str, int], max_batch: int
) -> list[Message]:
    """Up to `max_batch` records, topic by topic, each from the offset given for it."""
    batch: list[Message] = []
    for topic, start in next_offsets.items():
        rows = conn.execute(
            "SELECT offset, key, headers, value FROM records"
            " WHERE topic = ? AND offset >= ? ORDER BY offset LIMIT ?",
            (topic, start, max_batch - len(batch)),
        ).fetchall()
        batch += [_message(topic, *row) for row in rows]
        if len(batch) >= max_batch:
            break
    return batch


def _message(topic: str, offset: int, key: str, headers: str, value: bytes) -> Message:
    return Message(
        topic=topic,
        key=key,
        headers=fastjson.loads(headers, exact_big_integers=False),
        value=value,
        partition=0,
        offset=offset,
    )


def _offset(message: Message) -> int:
    assert message.offset is not None
    return message.offset


def _offset_of(position: str | None) -> int:
    if position is None:
        return 0
    if not position.isascii() or not position.isdigit() or len(position) > 18:
        raise BadPosition(f"not a position of this bus: {position[:40]!r}")
    return int(position)


def _commit(conn: sqlite3.Connection, *, group: str, batch: Sequence[Message]) -> None:
    last: dict[str, int] = {}
    for m in batch:
        assert m.offset is not None
        last[m.topic] = max(last.get(m.topic, -1), m.offset)

    def write(c: sqlite3.Connection) -> None:
        for topic, offset in last.items():
            c.execute(
                "INSERT INTO group_offsets VALUES (?, ?, ?)"
                " ON CONFLICT (grp, topic) DO UPDATE SET next_offset = excluded.next_offset",
                (group, topic, offset + 1),
            )

    # In WAL mode, synchronous=NORMAL commits without an fsync; the file's next FULL commit (a
    # publish) syncs the log with these frames in it. Restored at once: nothing awaits here.
    durability = conn.execute("PRAGMA synchronous").fetchone()[0]
    if durability > _NORMAL:
        conn.execute(f"PRAGMA synchronous={_NORMAL}")
    try:
        transaction(conn, write)
    finally:
        if durability > _NORMAL:
            conn.execute(f"PRAGMA synchronous={int(durability)}")
