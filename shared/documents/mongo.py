"""DocumentStore on MongoDB (or FerretDB 1.24) through PyMongo's native async API.

Each logical collection is the Mongo collection `<prefix><name>`; a stored document is the
document's own fields plus `_id` (its id) and `_rev`. Filters are the port's Mongo subset, passed
through after the same validation the SQLite adapter applies.

Conditional writes without transactions. Every write of one id in a batch is folded, in order,
into one atomic single-document operation from the revision the batch starts at:
insert (must not exist), replace `{_id, _rev: start}` or delete `{_id, _rev: start}`. The starting
revision is first *guessed* (the first write's `expected_rev`, or "absent" for an unconditional
write) so that a replay into an empty collection is one `insert_many` and a conditional update is
one round trip; when the guess is wrong, or another writer got in between, the revisions are read
and the fold is done again on what is really there.

A store runs its own writes to one collection one at a time (an asyncio lock per collection).
On MongoDB a conditional replace is atomic anyway; FerretDB 1.24 on SQLite, though, runs an
update as query-then-write without isolation (FerretDB issue #3040), so two concurrent replaces
of one document can both "match" and one update is lost. The lock makes writes through one store
safe on both; across processes, only MongoDB guarantees them (a read model has one writer, its
projection runner, so FerretDB stays a faithful stand-in for tests).

Indexes follow the queries: before the first `find` or `count` of a collection on a field it
selects by value (equality or `$in`), the store makes sure that field has an ascending index
(`createIndex` is a no-op when it exists, and a store asks once per collection and field). The
fields a read model is queried by are fixed in code, so a collection gets a few such indexes;
MongoDB combines a filter's fields by picking the index that narrows most. `_id` needs none:
`get`, `get_many` and the conditional writes go by `_id` alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from shared.documents.filters import check_document, conditions, sort_keys
from shared.documents.port import Document, Filter, Sort, Write
from shared.eventstore.port import StoreUnavailable
from shared.mongo import MongoClient, MongoDatabase, MongoDoc, connect, ping, unavailable

_DUPLICATE_KEY = 11000
_CONCURRENCY = 8  # replaces and deletes in flight at once (FerretDB gains nothing from more)
_MAX_ROUNDS = 100  # rounds of re-reading before giving up on a document others keep changing

Collection = AsyncCollection[MongoDoc]


def _filter(where: Filter | None) -> MongoDoc:
    query: dict[str, dict[str, Any]] = {}
    for name, op, value in conditions(where):
        query.setdefault(name, {})[op] = value
    return query


def _selective_fields(where: Filter | None) -> list[str]:
    """The fields a filter selects by value: each is worth an index."""
    fields = {name for name, op, _ in conditions(where) if op in ("$eq", "$in")}
    return sorted(fields - {"_id"})


def _sort(sort: Sort) -> list[tuple[str, int]]:
    keys = sort_keys(sort)
    if all(name != "_id" for name, _ in keys):  # ties, and no sort, go by id everywhere
        keys.append(("_id", 1))
    return [(name, DESCENDING if direction < 0 else ASCENDING) for name, direction in keys]


def _stored(doc_id: str, rev: int, doc: Document) -> MongoDoc:
    stored: MongoDoc = {"_id": doc_id, "_rev": rev}
    stored.update((k, v) for k, v in doc.items() if k not in ("_id", "_rev"))
    return stored


@dataclass
class _Plan:
    """The writes of one id folded into one operation from revision `start` (0 = absent)."""

    doc_id: str
    start: int
    failed: list[int] = field(default_factory=list)  # indexes of writes whose condition failed
    changed: bool = False
    rev: int = 0
    doc: Document | None = None

    @classmethod
    def fold(cls, doc_id: str, start: int, writes: list[tuple[int, Write]]) -> _Plan:
        plan = cls(doc_id, start, rev=start)
        for index, w in writes:
            if w.expected_rev is not None and w.expected_rev != plan.rev:
                plan.failed.append(index)
            elif w.doc is None:
                plan.changed, plan.rev, plan.doc = True, 0, None
            else:
                plan.changed, plan.rev, plan.doc = True, plan.rev + 1, w.doc
        return plan

    @property
    def noop(self) -> bool:
        return not self.changed or (self.start == 0 and self.rev == 0)

    @property
    def inserts(self) -> bool:
        return self.start == 0 and self.rev > 0


class MongoDocumentStore:
    """Read models in the collections `<prefix><name>` of `db`.

    `client` is the client this store owns and closes; leave it None when the caller owns it.
    """

    def __init__(
        self, db: MongoDatabase, *, prefix: str = "rm_", client: MongoClient | None = None
    ) -> None:
        self._db = db
        self._prefix = prefix
        self._client = client
        self._locks: dict[str, asyncio.Lock] = {}
        self._indexed: set[tuple[str, str]] = set()  # (collection, field) known to have one

    def _collection(self, name: str) -> Collection:
        if not name or "$" in name or "\0" in name:
            raise ValueError(f"bad collection name {name!r}")
        return self._db[self._prefix + name]

    async def get(self, collection: str, doc_id: str) -> Document | None:
        with unavailable():
            return await self._collection(collection).find_one({"_id": doc_id})

    async def get_many(self, collection: str, doc_ids: Sequence[str]) -> dict[str, Document]:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        with unavailable():
            cursor = self._collection(collection).find({"_id": {"$in": ids}})
            return {doc["_id"]: doc async for doc in cursor}

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        sort: Sort = (),
        limit: int | None = None,
    ) -> list[Document]:
        query, order = _filter(where), _sort(sort)
        if limit is not None and limit < 0:
            raise ValueError(f"limit {limit} is negative")
        if limit == 0:  # MongoDB reads limit 0 as "no limit"
            return []
        col = self._collection(collection)
        with unavailable():
            await self._index(col, where)
            cursor = col.find(query, sort=order, limit=limit or 0)
            return await cursor.to_list()

    async def revisions(self, collection: str, where: Filter | None = None) -> dict[str, int]:
        query = _filter(where)
        col = self._collection(collection)
        with unavailable():
            await self._index(col, where)
            cursor = col.find(query, projection={"_rev": True})
            return {doc["_id"]: int(doc["_rev"]) async for doc in cursor}

    async def count(self, collection: str, where: Filter | None = None) -> int:
        query = _filter(where)
        col = self._collection(collection)
        with unavailable():
            await self._index(col, where)
            return await col.count_documents(query)

    async def write(self, collection: str, writes: Sequence[Write]) -> list[str]:
        for w in writes:
            if w.doc is not None:
                check_document(w.doc)
        col = self._collection(collection)
        async with self._locks.setdefault(collection, asyncio.Lock()):
            return await self._write(col, writes)

    async def _write(self, col: Collection, writes: Sequence[Write]) -> list[str]:
        by_id: dict[str, list[tuple[int, Write]]] = {}
        for index, w in enumerate(writes):
            by_id.setdefault(w.doc_id, []).append((index, w))
        guessed = set(by_id)  # ids whose starting revision has not been read yet
        failed: list[int] = []
        pending = list(by_id)
        with unavailable():
            for _ in range(_MAX_ROUNDS):
                if not pending:
                    return [writes[index].doc_id for index in sorted(failed)]
                plans, to_read = [], []
                for doc_id in pending:
                    if doc_id in guessed:
                        guess = by_id[doc_id][0][1].expected_rev or 0
                        plan = _Plan.fold(doc_id, guess, by_id[doc_id])
                        if plan.noop:  # no operation would check the guess: read the truth
                            to_read.append(doc_id)
                        else:
                            plans.append(plan)
                    else:
                        to_read.append(doc_id)
                if to_read:
                    revs = await self._revs(col, to_read)
                    guessed.difference_update(to_read)
                    plans += [_Plan.fold(d, revs.get(d, 0), by_id[d]) for d in to_read]
                missed = await self._apply(col, plans)
                pending = []
                for plan in plans:
                    if plan.doc_id in missed:  # the store was elsewhere: read it, fold again
                        guessed.discard(plan.doc_id)
                        pending.append(plan.doc_id)
                    else:
                        failed += plan.failed
        raise StoreUnavailable(f"{col.name}: documents kept changing during the write")

    async def drop(self, collection: str) -> None:
        col = self._collection(collection)
        with unavailable():
            await col.drop()
        self._indexed = {(c, f) for c, f in self._indexed if c != col.name}

    async def _index(self, col: Collection, where: Filter | None) -> None:
        for name in _selective_fields(where):
            if (col.name, name) not in self._indexed:
                await col.create_index([(name, ASCENDING)])
                self._indexed.add((col.name, name))

    async def ping(self) -> None:
        await ping(self._db)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def _revs(self, col: Collection, ids: list[str]) -> dict[str, int]:
        if len(ids) == 1:  # the commonest case, the plainest query
            doc = await col.find_one({"_id": ids[0]}, {"_rev": 1})
            return {} if doc is None else {ids[0]: int(doc.get("_rev", 0))}
        cursor = col.find({"_id": {"$in": ids}}, {"_rev": 1})
        return {doc["_id"]: int(doc.get("_rev", 0)) async for doc in cursor}

    async def _apply(self, col: Collection, plans: list[_Plan]) -> set[str]:
        """Run the plans' operations; return the ids whose operation found another revision."""
        missed: set[str] = set()
        inserts = [p for p in plans if not p.noop and p.inserts]
        if inserts:
            docs = [_stored(p.doc_id, p.rev, p.doc or {}) for p in inserts]  # doc set: rev > 0
            try:
                await col.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                if exc.details.get("writeConcernErrors"):
                    raise
                for error in exc.details.get("writeErrors", []):
                    if error.get("code") != _DUPLICATE_KEY:
                        raise
                    missed.add(inserts[error["index"]].doc_id)
        others = [p for p in plans if not p.noop and not p.inserts]
        if not others:
            return missed
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def one(plan: _Plan) -> bool:
            async with gate:
                where = {"_id": plan.doc_id, "_rev": plan.start}
                if plan.doc is None:
                    return (await col.delete_one(where)).deleted_count == 1
                replacement = _stored(plan.doc_id, plan.rev, plan.doc)
                return (await col.replace_one(where, replacement)).matched_count == 1

        outcomes = await asyncio.gather(*(one(p) for p in others), return_exceptions=True)
        for plan, outcome in zip(others, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                raise outcome
            if not outcome:
                missed.add(plan.doc_id)
        return missed


async def open_mongo_document_store(
    url: str, database: str, *, prefix: str = "rm_", **client_options: Any
) -> MongoDocumentStore:
    """A store with its own client (closed by `close()`). The client connects on first use:
    nothing needs creating up front (async only to match `open_mongo_event_store`)."""
    client = connect(url, **client_options)
    return MongoDocumentStore(client[database], prefix=prefix, client=client)
