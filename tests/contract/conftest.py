"""Every port has one contract suite; these fixtures run it against each adapter.

`event_stores` and `document_stores` open stores on one fresh backend per test: a temporary
SQLite file, or a MongoDB database of its own (dropped afterwards). Opening twice gives two
stores on the same data, which is how the suites check that data survives a reopen. The mongo
parameter is an integration test: it fails, never skips, when MEDOFFICE_MONGO_URL is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import pytest

from shared.documents.mongo import open_mongo_document_store
from shared.documents.port import DocumentStore
from shared.documents.sqlite import SqliteDocumentStore
from shared.eventstore.mongo import open_mongo_event_store
from shared.eventstore.port import EventStore
from shared.eventstore.sqlite import SqliteEventStore
from shared.mongo import connect
from shared.sqlite import SqliteDatabase

BACKENDS = ["sqlite", pytest.param("mongo", marks=pytest.mark.integration)]
MONGO_OPTIONS: dict[str, Any] = {"serverSelectionTimeoutMS": 10_000}
# A server that cannot be reached. A name that never resolves (RFC 2606), not a closed port:
# PyMongo 4.20's async monitor leaks a socket when a refused connect meets client.close(), and
# the ResourceWarning then fails some later test under `filterwarnings = error`.
UNREACHABLE = "mongodb://medoffice-unreachable.invalid:27017"


class Closable(Protocol):
    async def close(self) -> None: ...


S = TypeVar("S", bound=Closable)


class Stores(Generic[S]):
    """Opens stores of one kind on one backend's data, and closes them all at the end."""

    def __init__(self, backend: str, opener: Callable[[], Awaitable[S]]) -> None:
        self.backend = backend
        self._opener = opener
        self._open: list[S] = []

    async def open(self) -> S:
        store = await self._opener()
        self._open.append(store)
        return store

    async def reopen(self, store: S) -> S:
        """Close `store` and open a new one on the same data (new file handle / new client)."""
        self._open.remove(store)
        await store.close()
        return await self.open()

    async def close(self) -> None:
        while self._open:
            await self._open.pop().close()


async def _drop_database(url: str, name: str) -> None:
    client = connect(url, **MONGO_OPTIONS)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


async def on_each_backend(
    request: pytest.FixtureRequest,
    unique: str,
    sqlite: Callable[[], Awaitable[S]],
    mongo: Callable[[str, str], Awaitable[S]],
) -> AsyncIterator[Stores[S]]:
    """Stores of one kind on the backend `request.param` names: `sqlite()` opens one on a
    temporary file, `mongo(url, database)` one in a database of the test's own, dropped after."""
    if request.param == "sqlite":
        stores = Stores[S]("sqlite", sqlite)
        try:
            yield stores
        finally:
            await stores.close()
        return
    url: str = request.getfixturevalue("mongo_url")
    stores = Stores[S]("mongo", lambda: mongo(url, unique))
    try:
        yield stores
    finally:
        await stores.close()
        await _drop_database(url, unique)


@pytest.fixture(params=BACKENDS)
async def event_stores(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[Stores[EventStore]]:
    async def sqlite() -> EventStore:
        return SqliteEventStore(SqliteDatabase(tmp_path / "events.db"))

    async def mongo(url: str, database: str) -> EventStore:
        return await open_mongo_event_store(url, database, **MONGO_OPTIONS)

    async for stores in on_each_backend(request, unique, sqlite, mongo):
        yield stores


@pytest.fixture(params=BACKENDS)
async def document_stores(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[Stores[DocumentStore]]:
    async def sqlite() -> DocumentStore:
        return SqliteDocumentStore(SqliteDatabase(tmp_path / "documents.db"))

    async def mongo(url: str, database: str) -> DocumentStore:
        return await open_mongo_document_store(url, database, **MONGO_OPTIONS)

    async for stores in on_each_backend(request, unique, sqlite, mongo):
        yield stores


@pytest.fixture
async def event_store(event_stores: Stores[EventStore]) -> EventStore:
    return await event_stores.open()


@pytest.fixture
async def document_store(document_stores: Stores[DocumentStore]) -> DocumentStore:
    return await document_stores.open()
