"""Read models by name: which physical collection serves a projection now, and waiting for it.

A projection's collections live under a generation (`schedule__g2`). Rebuilding fills the next
generation while the current one keeps serving; the switch is one write of the projection's
registry document, which every process reads before it queries.

A replay (`shared/replays.py`) fills a scratch generation (negative: rebuilds only count up
from 1) with a projection's events up to a time. A request that names it (`?replay=`, set by
`shared/http/app.py` as `reading_replay`) reads that generation instead of the active one,
through the same routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

from shared.documents.port import Document, DocumentStore, Filter, Sort, put
from shared.domain import Invalid, NotFound, Rejected

REGISTRY = "_projections"
REPLAYS = "_replays"  # replay jobs, by id: the projection, its scratch generation, progress

_replay: ContextVar[str | None] = ContextVar("medoffice_replay", default=None)


@contextlib.contextmanager
def reading_replay(replay_id: str | None) -> Iterator[None]:
    """Within this block, reads of read models go to the scratch generation of this replay."""
    token = _replay.set(replay_id)
    try:
        yield
    finally:
        _replay.reset(token)


def current_replay() -> str | None:
    return _replay.get()


class NotWritten(Invalid):
    """A read asked to wait for a version its stream does not have: no wait would bring it
    (HTTP 422), unlike a read model that is behind (503 with Retry-After after the bound)."""

    def __init__(self, stream: str, head: int, version: int) -> None:
        super().__init__(
            f"stream {stream} is at version {head}; after_version {version} does not exist"
        )
        self.stream = stream
        self.head = head
        self.version = version


def physical(collection: str, generation: int) -> str:
    return f"{collection}__g{generation}"


def seen_key(stream: str) -> str:
    """Stream ids as field names: MongoDB forbids dots and a leading dollar in keys."""
    return stream.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def seen_version(doc: Document | None, stream: str) -> int:
    if doc is None:
        return 0
    return int(doc.get("_seen", {}).get(seen_key(stream), 0))


class ReadModels:
    """Queries read models through this: it resolves generations and waits for catch-up."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self._changed = asyncio.Condition()

    async def generation(self, projection: str) -> int:
        replay = _replay.get()
        if replay is not None:
            return await self._scratch(replay, projection)
        doc = await self.store.get(REGISTRY, projection)
        return 1 if doc is None else int(doc["active"])

    async def _scratch(self, replay: str, projection: str) -> int:
        """The scratch generation a finished replay of `projection` filled. A replay of
        another projection is not one of this one (a route reading two read models can only
        be replayed for one of them): 404, like an unknown replay; still running: 409."""
        doc = await self.store.get(REPLAYS, replay)
        if doc is None or doc.get("projection") != projection:
            raise NotFound(f"No replay {replay} of the read model {projection}")
        if doc["status"] != "finished":
            raise Rejected(f"Replay {replay} is {doc['status']}, not finished")
        return int(doc["generation"])

    async def generations(self, *projections: str) -> dict[str, int]:
        """The generations serving these projections, in one read of the registry."""
        if _replay.get() is not None:
            return {p: await self.generation(p) for p in projections}
        docs = await self.store.get_many(REGISTRY, projections)
        return {p: int(docs[p]["active"]) if p in docs else 1 for p in projections}

    async def set_generation(self, projection: str, generation: int) -> None:
        doc = await self.store.get(REGISTRY, projection)
        rev = 0 if doc is None else int(doc["_rev"])
        await put(self.store, REGISTRY, projection, {"active": generation}, expected_rev=rev)

    async def collection(self, projection: str, collection: str) -> str:
        return physical(collection, await self.generation(projection))

    async def get(self, projection: str, collection: str, doc_id: str) -> Document | None:
        return await self.store.get(await self.collection(projection, collection), doc_id)

    async def find(
        self,
        projection: str,
        collection: str,
        where: Filter | None = None,
        sort: Sort = (),
        limit: int | None = None,
    ) -> list[Document]:
        name = await self.collection(projection, collection)
        return await self.store.find(name, where, sort, limit)

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _changed_or(self, remaining: float) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))
            except TimeoutError:
                pass

    async def wait_for(
        self,
        projection: str,
        collection: str,
        doc_id: str,
        stream: str,
        version: int,
        timeout: float,
        head: Callable[[str], Awaitable[int]],
    ) -> bool:
        """Wait until the document has seen `stream` up to `version`; False on timeout.

        `head` is the stream's version in the event store: a version beyond it does not exist
        yet, and asking for it raises NotWritten at once instead of waiting in vain."""
        deadline = time.monotonic() + timeout
        checked = False
        while True:
            doc = await self.get(projection, collection, doc_id)
            if seen_version(doc, stream) >= version:
                return True
            if not checked:
                # Only when the read model is short of it: an answered read costs no store read.
                current = await head(stream)
                if current < version:
                    raise NotWritten(stream, current, version)
                checked = True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await self._changed_or(remaining)


def public(doc: Document | None) -> dict[str, Any] | None:
    """A read-model document without its bookkeeping fields, for an API response."""
    if doc is None:
        return None
    return {k: v for k, v in doc.items() if k not in ("_id", "_rev", "_seen")}
