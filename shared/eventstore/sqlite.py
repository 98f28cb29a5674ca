"""EventStore on an SQLite file: the embedded default.

A commit's tags are kept twice in the one transaction of its append: as JSON on the commit row
(NULL on the rows of a file written before commits had tags: what `backfill_tags` looks for,
through a partial index) and one row each in `commit_tags`, whose primary key (tag, position) is
the index `streams_tagged` reads.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence

from shared.events import Envelope
from shared.eventstore.codec import (
    check_limit,
    check_tags,
    check_versions,
    decode_events,
    encode_events,
)
from shared.eventstore.port import Commit, ConcurrencyConflict, StoreUnavailable, TagsOf
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
CREATE TABLE IF NOT EXISTS commit_tags (
    tag TEXT NOT NULL,
    position INTEGER NOT NULL,
    stream TEXT NOT NULL,
    PRIMARY KEY (tag, position)
) WITHOUT ROWID;
"""
# Files written before commits had tags get the column; their rows read NULL until backfilled.
_UNTAGGED = "CREATE INDEX IF NOT EXISTS commits_untagged ON commits (position) WHERE tags IS NULL"


def _migrate(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)

    def add_tags_column(c: sqlite3.Connection) -> None:
        columns = {row[1] for row in c.execute("PRAGMA table_info(commits)")}
        if "tags" not in columns:
            c.execute("ALTER TABLE commits ADD COLUMN tags TEXT")
        c.execute(_UNTAGGED)

    transaction(conn, add_tags_column)  # one process adds it when several open the file


def _tag_rows(tags: Sequence[str], position: int, stream: str) -> list[tuple[str, int, str]]:
    return [(tag, position, stream) for tag in tags]


def _backfill(
    found: list[tuple[Commit, tuple[str, ...]]],
) -> Callable[[sqlite3.Connection], int]:
    """The write that gives commits their tags unless another process did meanwhile."""

    def write(conn: sqlite3.Connection) -> int:
        done = 0
        for commit, tags in found:
            cursor = conn.execute(
                "UPDATE commits SET tags = ? WHERE position = ? AND tags IS NULL",
                (json.dumps(tags), commit.position),
            )
            if cursor.rowcount:
                conn.executemany(
                    "INSERT INTO commit_tags (tag, position, stream) VALUES (?, ?, ?)",
                    _tag_rows(tags, commit.position, commit.stream),
                )
                done += 1
        return done

    return write


class SqliteEventStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        db.run_sync(_migrate)

    async def append(
        self,
        stream: str,
        events: Sequence[Envelope],
        expected_version: int,
        tags: Sequence[str] = (),
    ) -> Commit:
        check_versions(stream, events, expected_version)
        tagged = check_tags(tags)
        payload = encode_events(events)

        def write(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT COALESCE(MAX(last_version), 0) FROM commits WHERE stream = ?", (stream,)
            ).fetchone()
            if row[0] != expected_version:
                raise ConcurrencyConflict(stream, expected_version, row[0])
            cursor = conn.execute(
                "INSERT INTO commits (stream, first_version, last_version, events, tags)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    stream,
                    expected_version + 1,
                    expected_version + len(events),
                    payload,
                    json.dumps(tagged),
                ),
            )
            assert cursor.lastrowid is not None
            conn.executemany(
                "INSERT INTO commit_tags (tag, position, stream) VALUES (?, ?, ?)",
                _tag_rows(tagged, cursor.lastrowid, stream),
            )
            return cursor.lastrowid

        try:
            # Committed with the appends that arrive meanwhile (one fsync), acknowledged after.
            position = await self._db.write(write)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return Commit(
            position=position,
            stream=stream,
            first_version=expected_version + 1,
            events=tuple(e.model_copy(update={"position": position}) for e in events),
            tags=tagged,
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

    async def backlog(self) -> int:
        row = await self._db.run(
            lambda conn: conn.execute("SELECT COUNT(*) FROM commits WHERE published = 0").fetchone()
        )
        return int(row[0])

    async def mark_published(self, positions: Sequence[int]) -> None:
        rows = [(p,) for p in positions]
        await self._db.write(
            lambda c: c.executemany("UPDATE commits SET published = 1 WHERE position = ?", rows)
        )

    async def streams_tagged(self, tag: str) -> list[str]:
        rows = await self._db.run(
            lambda conn: conn.execute(
                "SELECT stream, MAX(position) AS last FROM commit_tags WHERE tag = ?"
                " GROUP BY stream ORDER BY last",
                (tag,),
            ).fetchall()
        )
        return [stream for stream, _ in rows]

    async def backfill_tags(self, tags_of: TagsOf, batch: int = 500) -> int:
        check_limit(batch)
        tagged = 0
        while True:
            untagged = await self._commits("WHERE tags IS NULL ORDER BY position LIMIT ?", (batch,))
            if not untagged:
                return tagged
            write = _backfill([(c, check_tags(list(tags_of(c)))) for c in untagged])
            try:
                tagged += await self._db.write(write)
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(str(exc)) from exc

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
                "SELECT position, stream, first_version, events, published, tags FROM commits "
                + where,
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
                tags=() if tags is None else tuple(json.loads(tags)),
            )
            for position, stream, first, raw, published, tags in rows
        ]
