"""EventStore on MongoDB (or FerretDB 1.24) through PyMongo's native async API.

One document per commit in `<prefix>commits`:
`{_id: position, stream, first_version, last_version, events: [...], published, tags: [...]}`.
Each event is its envelope without the position; its `data` is kept as JSON text, because event
data may hold keys (say an ICD-10 code "E11.9") that FerretDB refuses as field names and that
MongoDB stores only with caveats. Nothing queries inside `data`.

Only inserts (and one idempotent `$set` for the published flag) ever write: FerretDB 1.24 on
SQLite runs an update as query-then-write without isolation (FerretDB issue #3040), so a counter
bumped with `$inc`, or any compare-and-set through an update, loses updates under concurrency
there. A unique index, on the other hand, is atomic on every backend, and everything rests on it:

- Optimistic concurrency: make sure the expected version ends a commit of the stream (or is 0),
  then insert the commit with `first_version = expected + 1`. The unique index on
  (stream, first_version) turns any append that is not at the head into DuplicateKeyError: the
  commit that follows the expected version already starts there. So two commits never start at
  the same version and a stream's versions stay one chain. Whether the expected version ends a
  commit is known without a read when this store saw it as a head (it appended or loaded up to
  there: versions that end a commit always will), which makes the load-decide-append cycle one
  query and one insert; otherwise the stream's last version is read first.
- Global position: the commit's `_id` is the highest position seen + 1. A duplicate `_id` means
  another append took that position: if the stream is still where it was expected, take the
  highest position again and retry, else it is a ConcurrencyConflict. As a commit is only
  written right after its predecessor position exists, positions have no gaps and become
  visible in order: `read_all(after_position)` never skips a commit that appears later.
  Appends of one store take positions one at a time (an asyncio lock around the insert), so the
  store's own appends never race each other for a position.

- Tags: the commit's `tags` array is part of the one document its append inserts, so they are
  written exactly when the commit is (a conflicting append leaves neither). A multikey index on
  (tags, _id) answers `streams_tagged`. A commit stored before commits had tags has no `tags`
  field at all (an empty array means "none"): `backfill_tags` finds those through the same
  index and `$set`s their tags, once (the filter requires the field to be missing still).

Every hot query is an index lookup on MongoDB (tests/integration/test_explain.py checks the
plans) and on the test server, FerretDB 1.24 on PostgreSQL (infra/). None needs a sort over
more than one stream's commits or one page: FerretDB sorts in memory whatever its filter returns,
so `read_all` asks for the `_id` range (after, after + limit] (positions have no gaps: that
range holds exactly the next `limit` commits, unless the head is nearer), and the highest
position is found by `_id` lookups rather than by sorting every commit. FerretDB on SQLite
(the fallback test server when PostgreSQL cannot be installed) scans for every query but `_id`.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from shared.events import Envelope
from shared.eventstore.codec import (
    check_limit,
    check_tags,
    check_versions,
    envelope_from_record,
    envelope_record,
)
from shared.eventstore.port import Commit, ConcurrencyConflict, StoreUnavailable, TagsOf
from shared.mongo import MongoClient, MongoDatabase, MongoDoc, connect, ping, unavailable

_MAX_POSITION_ATTEMPTS = 100  # other processes taking the next position before us, in a row
_HEADS = 10_000  # streams whose last seen head this store remembers


def _stored(event: Envelope) -> MongoDoc:
    record = envelope_record(event)
    record["data"] = json.dumps(record["data"])
    return record


def _loaded(record: MongoDoc, position: int) -> Envelope:
    return envelope_from_record({**record, "data": json.loads(record["data"])}, position)


def _commit(doc: MongoDoc) -> Commit:
    position = int(doc["_id"])
    return Commit(
        position=position,
        stream=doc["stream"],
        first_version=doc["first_version"],
        events=tuple(_loaded(e, position) for e in doc["events"]),
        published=bool(doc["published"]),
        tags=tuple(doc.get("tags", ())),
    )


class MongoEventStore:
    """Commits in `<prefix>commits` of `db`. Call `ensure_indexes()` once before appending.

    `client` is the client this store owns and closes; leave it None when the caller owns the
    database's client (several stores may share one).
    """

    def __init__(
        self, db: MongoDatabase, *, prefix: str = "", client: MongoClient | None = None
    ) -> None:
        self._db = db
        self._commits = db[f"{prefix}commits"]
        self._client = client
        self._last_position: int | None = None  # highest position known to exist
        self._positions = asyncio.Lock()
        self._heads: OrderedDict[str, int] = OrderedDict()  # a version that ends a commit

    @classmethod
    async def create(cls, db: MongoDatabase, *, prefix: str = "") -> MongoEventStore:
        """A store on a database whose client the caller owns, with its indexes in place."""
        store = cls(db, prefix=prefix)
        await store.ensure_indexes()
        return store

    async def ensure_indexes(self) -> None:
        """Create the indexes (idempotent)."""
        with unavailable():
            await self._commits.create_index(
                [("stream", ASCENDING), ("first_version", ASCENDING)],
                unique=True,
                name="stream_version",
            )
            await self._commits.create_index(
                [("published", ASCENDING), ("_id", ASCENDING)], name="unpublished"
            )
            await self._commits.create_index([("tags", ASCENDING), ("_id", ASCENDING)], name="tags")

    async def append(
        self,
        stream: str,
        events: Sequence[Envelope],
        expected_version: int,
        tags: Sequence[str] = (),
    ) -> Commit:
        check_versions(stream, events, expected_version)
        tagged = check_tags(tags)
        first, last = expected_version + 1, expected_version + len(events)
        stored = [_stored(e) for e in events]
        commit = {
            "stream": stream,
            "first_version": first,
            "last_version": last,
            "events": stored,
            "published": False,
            "tags": list(tagged),
        }
        with unavailable():
            if expected_version and self._heads.get(stream) != expected_version:
                actual = await self._version(stream)
                if actual != expected_version:
                    raise ConcurrencyConflict(stream, expected_version, actual)
            position = await self._insert(commit, expected_version)
        self._saw(stream, last)
        return Commit(
            position=position,
            stream=stream,
            first_version=first,
            events=tuple(e.model_copy(update={"position": position}) for e in events),
            tags=tagged,
        )

    async def load(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Envelope]:
        check_limit(limit)
        with unavailable():
            # Every commit holds at least one event: `limit` commits hold all the events wanted.
            cursor = self._commits.find(
                {"stream": stream, "last_version": {"$gt": after_version}},
                {"events": 1},
                sort=[("first_version", ASCENDING)],
                limit=limit or 0,
            )
            docs = await cursor.to_list()
        events = [
            event
            for doc in docs
            for event in (_loaded(e, int(doc["_id"])) for e in doc["events"])
            if event.stream_version > after_version
        ]
        if events:
            self._saw(stream, events[-1].stream_version)
        return events[:limit]

    async def version(self, stream: str) -> int:
        with unavailable():
            return await self._version(stream)

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Commit]:
        # A full page means the range held no gap. Short of one: the head is near, or (never by
        # our appends) a gap; the open range is then cheap, and right in both cases.
        page = {"$gt": after_position, "$lte": after_position + limit}
        commits = await self._find({"_id": page}, limit)
        if 0 < limit and len(commits) < limit:
            commits = await self._find({"_id": {"$gt": after_position}}, limit)
        return commits

    async def unpublished(self, limit: int = 1000) -> list[Commit]:
        return await self._find({"published": False}, limit)

    async def backlog(self) -> int:
        with unavailable():
            return int(await self._commits.count_documents({"published": False}))

    async def mark_published(self, positions: Sequence[int]) -> None:
        if not positions:
            return
        with unavailable():
            await self._commits.update_many(
                {"_id": {"$in": list(positions)}}, {"$set": {"published": True}}
            )

    async def streams_tagged(self, tag: str) -> list[str]:
        with unavailable():
            docs = await self._commits.find({"tags": tag}, {"stream": 1}).to_list()
        last: dict[str, int] = {}  # each stream at its last tagged commit, in that order
        for doc in sorted(docs, key=lambda d: int(d["_id"])):
            last.pop(doc["stream"], None)
            last[doc["stream"]] = int(doc["_id"])
        return list(last)

    async def backfill_tags(self, tags_of: TagsOf, batch: int = 500) -> int:
        check_limit(batch)
        tagged = 0
        while True:
            with unavailable():  # the `tags` index finds them: a missing field is indexed
                cursor = self._commits.find({"tags": {"$exists": False}}, limit=batch)
                untagged = [_commit(doc) for doc in await cursor.to_list()]
            if not untagged:
                return tagged
            for commit in sorted(untagged, key=lambda c: c.position):
                tags = check_tags(list(tags_of(commit)))
                with unavailable():
                    result = await self._commits.update_one(
                        {"_id": commit.position, "tags": {"$exists": False}},
                        {"$set": {"tags": list(tags)}},
                    )
                tagged += result.modified_count

    async def ping(self) -> None:
        await ping(self._db)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def _version(self, stream: str) -> int:
        doc = await self._commits.find_one(
            {"stream": stream}, {"last_version": 1}, sort=[("first_version", DESCENDING)]
        )
        version = 0 if doc is None else int(doc["last_version"])
        self._saw(stream, version)
        return version

    def _saw(self, stream: str, head: int) -> None:
        """Remember that `head` ends a commit of `stream` (true forever once true)."""
        if head > 0:
            self._heads[stream] = head
            self._heads.move_to_end(stream)
            if len(self._heads) > _HEADS:
                self._heads.popitem(last=False)

    async def _insert(self, commit: MongoDoc, expected_version: int) -> int:
        """Insert the commit at the next free position; return that position."""
        stream = commit["stream"]
        async with self._positions:
            for _ in range(_MAX_POSITION_ATTEMPTS):
                if self._last_position is None:
                    self._last_position = await self._max_position()
                position = self._last_position + 1
                try:
                    await self._commits.insert_one({"_id": position, **commit})
                except DuplicateKeyError as exc:
                    actual = await self._version(stream)
                    if actual != expected_version:
                        raise ConcurrencyConflict(stream, expected_version, actual) from exc
                    # Someone else took it: the head is there or beyond.
                    self._last_position = await self._max_position(position)
                    continue
                self._last_position = position
                return position
        raise StoreUnavailable(f"no free commit position after {_MAX_POSITION_ATTEMPTS} tries")

    async def _max_position(self, taken: int = 0) -> int:
        """The highest position, `taken` or beyond (0: none), by `_id` lookups only.

        Positions have no gaps, so "is p taken" is true up to the head and false after it: probe
        ever further from `taken`, then halve the interval (2 log2(distance) lookups). A last
        range query proves nothing lies beyond; were there a gap, it finds what does.
        """

        async def exists(position: int) -> bool:
            return await self._commits.find_one({"_id": position}, {"_id": 1}) is not None

        low, step = taken, 1
        while await exists(low + step):
            low, step = low + step, step * 2
        high = low + step  # low is taken (or 0), high is not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if await exists(middle) else (low, middle)
        while beyond := await self._commits.find({"_id": {"$gt": low}}, {"_id": 1}).to_list():
            low = max(int(doc["_id"]) for doc in beyond)
        return low

    async def _find(self, where: MongoDoc, limit: int) -> list[Commit]:
        if limit < 0:
            raise ValueError(f"limit {limit} is negative")
        if limit == 0:  # MongoDB reads limit 0 as "no limit"
            return []
        with unavailable():
            cursor = self._commits.find(where, sort=[("_id", ASCENDING)], limit=limit)
            docs = await cursor.to_list()
        if docs and (self._last_position or 0) < docs[-1]["_id"]:
            self._last_position = int(docs[-1]["_id"])
        return [_commit(doc) for doc in docs]


async def open_mongo_event_store(
    url: str, database: str, *, prefix: str = "", **client_options: Any
) -> MongoEventStore:
    """A store with its own client (closed by `close()`), indexes in place."""
    client = connect(url, **client_options)
    store = MongoEventStore(client[database], prefix=prefix, client=client)
    try:
        await store.ensure_indexes()
    except BaseException:
        await client.close()
        raise
    return store
