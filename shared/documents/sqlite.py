"""DocumentStore on an SQLite file: the embedded default. Documents are JSON text (compact
UTF-8 since orjson; bodies written before by `json.dumps` read the same)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from shared import fastjson
from shared.documents.filters import check_document, conditions, sort_keys
from shared.documents.port import Document, Filter, Sort, Write
from shared.eventstore.port import StoreUnavailable
from shared.sqlite import SqliteDatabase, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
"""

_OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=", "$ne": "IS NOT", "$eq": "IS"}


def _sql_value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _column(field: str) -> tuple[str, list[Any]]:
    if field in ("_id", "_rev"):
        return field[1:], []
    return "json_extract(body, ?)", ["$." + field]


def _where(where: Filter | None) -> tuple[str, list[Any]]:
    clauses, params = ["collection = ?"], []
    for field, op, value in conditions(where):
        column, column_params = _column(field)
        if op == "$in":
            present = [_sql_value(v) for v in value if v is not None]
            test = f"{column} IN ({','.join('?' * len(present)) or 'NULL'})"
            params += column_params + present
            if len(present) < len(value):  # like MongoDB, null also matches a missing field
                test = f"({test} OR {column} IS NULL)"
                params += column_params
            clauses.append(test)
        else:
            clauses.append(f"{column} {_OPERATORS[op]} ?")
            params += column_params + [_sql_value(value)]
    return " AND ".join(clauses), params


def _load(doc_id: str, rev: int, body: str) -> Document:
    doc: Document = fastjson.loads(body)
    doc["_id"], doc["_rev"] = doc_id, rev
    return doc


def _body(doc: Document) -> str:
    if "_id" in doc or "_rev" in doc:
        doc = {k: v for k, v in doc.items() if k not in ("_id", "_rev")}
    return fastjson.dumps_text(doc)


def _revisions(conn: sqlite3.Connection, collection: str, ids: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(
            conn.execute(
                f"SELECT id, rev FROM documents WHERE collection = ? AND id IN ({marks})",
                [collection, *chunk],
            ).fetchall()
        )
    return found


class _NotHeld(Exception):
    """A condition of a conditional batch failed: roll it all back, take the slow path."""


def _conditional(
    collection: str, writes: Sequence[Write]
) -> tuple[list[tuple[str, str, str]], list[tuple[int, str, str, str, int]]] | None:
    """The batch a projection flushes (distinct ids, each an insert or an update at a known
    revision) as inserts and updates that carry their conditions; None for any other batch."""
    inserts: list[tuple[str, str, str]] = []
    updates: list[tuple[int, str, str, str, int]] = []
    for w in writes:
        if w.doc is None or w.expected_rev is None:
            return None
        if w.expected_rev == 0:
            inserts.append((collection, w.doc_id, _body(w.doc)))
        else:
            updates.append((w.expected_rev + 1, _body(w.doc), collection, w.doc_id, w.expected_rev))
    if len({w.doc_id for w in writes}) != len(writes):
        return None
    return inserts, updates


def _write_if_all_held(
    conn: sqlite3.Connection,
    inserts: Sequence[tuple[str, str, str]],
    updates: Sequence[tuple[int, str, str, str, int]],
) -> list[str]:
    """Write with the conditions in the statements, no read of the revisions first; raise
    _NotHeld (the transaction rolls back whole: cheaper in WAL mode than a savepoint, which
    copies every page it touches) when one failed."""
    inserted = conn.executemany(
        "INSERT INTO documents (collection, id, rev, body) VALUES (?, ?, 1, ?)"
        " ON CONFLICT (collection, id) DO NOTHING",
        inserts,
    ).rowcount
    if inserted != len(inserts):
        raise _NotHeld
    updated = conn.executemany(
        "UPDATE documents SET rev = ?, body = ? WHERE collection = ? AND id = ? AND rev = ?",
        updates,
    ).rowcount
    if updated != len(updates):
        raise _NotHeld
    return []


# A projection's batch dirties a page per document it writes, spread over the collection.
# The write-ahead log may hold 8,192 pages (SQLite's default: 1,000) before a commit folds it
# into the file: a page that several batches changed is written back once, and the file is
# synced once per 32 MiB, not per 4. Only when the log is folded in changes, not durability
# (each commit is synced into the log). And up to 64 MiB of pages stay cached (default 2 MiB,
# filled only as pages are read): a batch finds most of the pages it changes in memory.
# Together a replay into SQLite takes about a third less time (docs/benchmarks.md, Replay).
_WAL_AUTOCHECKPOINT = 8192
_CACHE_KIB = 65536


class SqliteDocumentStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        db.run_sync(lambda conn: conn.executescript(_SCHEMA))
        db.run_sync(lambda conn: conn.execute(f"PRAGMA wal_autocheckpoint={_WAL_AUTOCHECKPOINT}"))
        db.run_sync(lambda conn: conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}"))

    async def get(self, collection: str, doc_id: str) -> Document | None:
        row = await self._db.run(
            lambda conn: conn.execute(
                "SELECT rev, body FROM documents WHERE collection = ? AND id = ?",
                (collection, doc_id),
            ).fetchone()
        )
        return None if row is None else _load(doc_id, row[0], row[1])

    async def get_many(self, collection: str, doc_ids: Sequence[str]) -> dict[str, Document]:
        ids = list(dict.fromkeys(doc_ids))

        def select(conn: sqlite3.Connection) -> list[tuple[str, int, str]]:
            rows: list[tuple[str, int, str]] = []
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                rows += conn.execute(
                    "SELECT id, rev, body FROM documents WHERE collection = ?"
                    f" AND id IN ({','.join('?' * len(chunk))})",
                    [collection, *chunk],
                ).fetchall()
            return rows

        return {row[0]: _load(*row) for row in await self._db.run(select)}

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        sort: Sort = (),
        limit: int | None = None,
    ) -> list[Document]:
        clause, params = _where(where)
        params = [collection, *params]
        keys = sort_keys(sort)
        if all(field != "_id" for field, _ in keys):  # ties, and no sort, go by id everywhere
            keys.append(("_id", 1))
        order = []
        for field, direction in keys:
            column, column_params = _column(field)
            order.append(f"{column} {'DESC' if direction < 0 else 'ASC'}")
            params += column_params
        sql = f"SELECT id, rev, body FROM documents WHERE {clause} ORDER BY {', '.join(order)}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = await self._db.run(lambda conn: conn.execute(sql, params).fetchall())
        return [_load(*row) for row in rows]

    async def revisions(self, collection: str, where: Filter | None = None) -> dict[str, int]:
        clause, params = _where(where)
        rows = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT id, rev FROM documents WHERE {clause}", [collection, *params]
            ).fetchall()
        )
        return {str(doc_id): int(rev) for doc_id, rev in rows}

    async def count(self, collection: str, where: Filter | None = None) -> int:
        clause, params = _where(where)
        row = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT COUNT(*) FROM documents WHERE {clause}", [collection, *params]
            ).fetchone()
        )
        return int(row[0])

    async def write(self, collection: str, writes: Sequence[Write]) -> list[str]:
        for w in writes:
            if w.doc is not None:
                check_document(w.doc)

        def apply(conn: sqlite3.Connection) -> list[str]:
            # Later writes to one id in the batch see the revisions earlier ones made.
            revs = _revisions(conn, collection, {w.doc_id for w in writes})
            failed: list[str] = []
            upserts: list[tuple[str, str, int, str]] = []
            deletes: list[tuple[str, str]] = []
            for w in writes:
                current = revs.get(w.doc_id, 0)
                if w.expected_rev is not None and w.expected_rev != current:
                    failed.append(w.doc_id)
                elif w.doc is None:
                    deletes.append((collection, w.doc_id))
                    upserts = [u for u in upserts if u[1] != w.doc_id]
                    revs[w.doc_id] = 0
                else:
                    deletes = [d for d in deletes if d[1] != w.doc_id]
                    upserts.append((collection, w.doc_id, current + 1, _body(w.doc)))
                    revs[w.doc_id] = current + 1
            conn.executemany("DELETE FROM documents WHERE collection = ? AND id = ?", deletes)
            conn.executemany(
                "INSERT OR REPLACE INTO documents (collection, id, rev, body) VALUES (?, ?, ?, ?)",
                upserts,
            )
            return failed

        try:
            if (batch := _conditional(collection, writes)) is not None:
                try:
                    return await self._db.run(
                        lambda conn: transaction(conn, lambda c: _write_if_all_held(c, *batch))
                    )
                except _NotHeld:
                    pass  # rolled back: the slow path reads the revisions and names the failed
            return await self._db.run(lambda conn: transaction(conn, apply))
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def drop(self, collection: str) -> None:
        await self._db.run(
            lambda conn: conn.execute("DELETE FROM documents WHERE collection = ?", (collection,))
        )

    async def ping(self) -> None:
        try:
            await self._db.run(lambda conn: conn.execute("SELECT 1").fetchone())
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self._db.close()
