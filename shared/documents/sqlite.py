"""DocumentStore on an SQLite file: the embedded default. Documents are JSON text."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from typing import Any

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

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=", "$ne": "IS NOT"}


def _path(field: str) -> str:
    if not _FIELD.match(field):
        raise ValueError(f"bad field name {field!r}")
    return "$." + field


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _column(field: str) -> tuple[str, list[Any]]:
    if field == "_id":
        return "id", []
    return "json_extract(body, ?)", [_path(field)]


def _where(where: Filter | None) -> tuple[str, list[Any]]:
    clauses, params = ["collection = ?"], []
    for field, condition in (where or {}).items():
        column, column_params = _column(field)
        tests = condition if isinstance(condition, dict) else {"$eq": condition}
        for op, value in tests.items():
            if op == "$in":
                marks = ",".join("?" * len(value)) or "NULL"
                clauses.append(f"{column} IN ({marks})")
                params += column_params + [_sql_value(v) for v in value]
            elif op == "$eq":
                clauses.append(f"{column} IS ?")
                params += column_params + [_sql_value(value)]
            elif op in _OPERATORS:
                clauses.append(f"{column} {_OPERATORS[op]} ?")
                params += column_params + [_sql_value(value)]
            else:
                raise ValueError(f"unsupported operator {op!r}")
    return " AND ".join(clauses), params


def _load(doc_id: str, rev: int, body: str) -> Document:
    doc: Document = json.loads(body)
    doc["_id"], doc["_rev"] = doc_id, rev
    return doc


def _body(doc: Document) -> str:
    return json.dumps({k: v for k, v in doc.items() if k not in ("_id", "_rev")})


class SqliteDocumentStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        db.run_sync(lambda conn: conn.executescript(_SCHEMA))

    async def get(self, collection: str, doc_id: str) -> Document | None:
        row = await self._db.run(
            lambda conn: conn.execute(
                "SELECT rev, body FROM documents WHERE collection = ? AND id = ?",
                (collection, doc_id),
            ).fetchone()
        )
        return None if row is None else _load(doc_id, row[0], row[1])

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        sort: Sort = (),
        limit: int | None = None,
    ) -> list[Document]:
        clause, params = _where(where)
        params = [collection, *params]
        order = []
        for field, direction in sort:
            column, column_params = _column(field)
            order.append(f"{column} {'DESC' if direction < 0 else 'ASC'}")
            params += column_params
        sql = f"SELECT id, rev, body FROM documents WHERE {clause}"
        sql += f" ORDER BY {', '.join(order)}" if order else " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = await self._db.run(lambda conn: conn.execute(sql, params).fetchall())
        return [_load(*row) for row in rows]

    async def count(self, collection: str, where: Filter | None = None) -> int:
        clause, params = _where(where)
        row = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT COUNT(*) FROM documents WHERE {clause}", [collection, *params]
            ).fetchone()
        )
        return int(row[0])

    async def write(self, collection: str, writes: Sequence[Write]) -> list[str]:
        def apply(conn: sqlite3.Connection) -> list[str]:
            failed = []
            for w in writes:
                row = conn.execute(
                    "SELECT rev FROM documents WHERE collection = ? AND id = ?",
                    (collection, w.doc_id),
                ).fetchone()
                current = 0 if row is None else row[0]
                if w.expected_rev is not None and w.expected_rev != current:
                    failed.append(w.doc_id)
                elif w.doc is None:
                    conn.execute(
                        "DELETE FROM documents WHERE collection = ? AND id = ?",
                        (collection, w.doc_id),
                    )
                else:
                    conn.execute(
                        "INSERT OR REPLACE INTO documents (collection, id, rev, body)"
                        " VALUES (?, ?, ?, ?)",
                        (collection, w.doc_id, current + 1, _body(w.doc)),
                    )
            return failed

        try:
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
