"""EventStore on an SQLite file: the embedded default."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from shared.events import Envelope
from shared.eventstore.codec import check_limit, check_versions, decode_events, encode_events
from shared.eventstore.port import Commit, ConcurrencyConflict, StoreUnavailable
from shared.sqlite import SqliteDatabase, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS commits (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    first_version INTEGER NOT NULL,
    last_version INTEGER NOT NULL,
    events TEXT NOT NULL,
    published INTEGER NOT NULL DEFAULT 0,
    UNIQUE (stream, first_version)
);
CREATE INDEX IF NOT EXISTS commits_unpublished ON commits (position) WHERE published = 0;
"""


class SqliteEventStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        db.run_sync(lambda conn: conn.executescript(_SCHEMA))

    async def append(
        self, stream: str, events: Sequence[Envelope], expected_version: int
    ) -> Commit:
        check_versions(stream, events, expected_version)
        payload = encode_events(events)

        def write(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT COALESCE(MAX(last_version), 0) FROM commits WHERE stream = ?", (stream,)
            ).fetchone()
            if row[0] != expected_version:
                raise ConcurrencyConflict(stream, expected_version, row[0])
            cursor = conn.execute(
                "INSERT INTO commits (stream, first_version, last_version, events)"
                " VALUES (?, ?, ?, ?)",
                (stream, expected_version + 1, expected_version + len(events), payload),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        try:
            position = await self._db.run(lambda conn: transaction(conn, write))
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return Commit(
            position=position,
            stream=stream,
            first_version=expected_version + 1,
            events=tuple(e.model_copy(update={"position": position}) for e in events),
        )

    async def load(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Envelope]:
        check_limit(limit)
        # Every commit holds at least one event: `limit` commits hold all the events wanted.
        rows = await self._db.run(
            lambda conn: conn.execute(
                "SELECT position, events FROM commits WHERE stream = ? AND last_version > ?"
                " ORDER BY first_version LIMIT ?",
                (stream, after_version, -1 if limit is None else limit),
            ).fetchall()
        )
        events = [
            e
            for position, raw in rows
            for e in decode_events(raw, position)
            if e.stream_version > after_version
        ]
        return events[:limit]

    async def version(self, stream: str) -> int:
        row = await self._db.run(
            lambda conn: conn.execute(
                "SELECT COALESCE(MAX(last_version), 0) FROM commits WHERE stream = ?", (stream,)
            ).fetchone()
        )
        return int(row[0])

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Commit]:
        return await self._commits(
            "WHERE position > ? ORDER BY position LIMIT ?", (after_position, limit)
        )

    async def unpublished(self, limit: int = 1000) -> list[Commit]:
        return await self._commits("WHERE published = 0 ORDER BY position LIMIT ?", (limit,))

    async def mark_published(self, positions: Sequence[int]) -> None:
        rows = [(p,) for p in positions]
        await self._db.run(
            lambda conn: transaction(
                conn,
                lambda c: c.executemany(
                    "UPDATE commits SET published = 1 WHERE position = ?", rows
                ),
            )
        )

    async def ping(self) -> None:
        try:
            await self._db.run(lambda conn: conn.execute("SELECT 1").fetchone())
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self._db.close()

    async def _commits(self, where: str, params: tuple[int, ...]) -> list[Commit]:
        rows = await self._db.run(
            lambda conn: conn.execute(
                "SELECT position, stream, first_version, events, published FROM commits " + where,
                params,
            ).fetchall()
        )
        return [
            Commit(
                position=position,
                stream=stream,
                first_version=first,
                events=decode_events(raw, position),
                published=bool(published),
            )
            for position, stream, first, raw, published in rows
        ]
