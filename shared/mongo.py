"""PyMongo's native async client (not Motor), and what the Mongo adapters share.

Everything here works on MongoDB and on FerretDB 1.24: no transactions, no change streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import AsyncMongoClient, uri_parser
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, OperationFailure

from shared.eventstore.port import StoreUnavailable

MongoDoc = dict[str, Any]
MongoClient = AsyncMongoClient[MongoDoc]
MongoDatabase = AsyncDatabase[MongoDoc]

# Server answers that mean "not now" rather than "no": shutting down, stepping down, no primary.
_TRANSIENT_CODES = frozenset({6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436})
# FerretDB 1.24 on SQLite answers a write that met another connection's lock with InternalError
# (code 1) "database is locked (5) (SQLITE_BUSY)": the same write succeeds a moment later.
_BUSY = "(SQLITE_BUSY)"


def connect(url: str, **options: Any) -> MongoClient:
    """A client that gives up on an unreachable server after 5 s unless told otherwise.

    The client connects lazily: a wrong host shows up on first use, as StoreUnavailable.
    """
    in_url = {name.lower() for name in uri_parser.parse_uri(url)["options"]}
    for name, value in (("serverSelectionTimeoutMS", 5000), ("connectTimeoutMS", 5000)):
        if name.lower() not in in_url:  # what the operator wrote in the URL wins
            options.setdefault(name, value)
    client: MongoClient = AsyncMongoClient(url, **options)
    return client


@contextmanager
def unavailable() -> Iterator[None]:
    """Translate "the server cannot be reached" into StoreUnavailable (HTTP 503)."""
    try:
        yield
    except ConnectionFailure as exc:
        raise StoreUnavailable(f"MongoDB unavailable: {exc}") from exc
    except OperationFailure as exc:
        if exc.code in _TRANSIENT_CODES or _BUSY in str(exc):
            raise StoreUnavailable(f"MongoDB unavailable: {exc}") from exc
        raise


async def ping(db: MongoDatabase) -> None:
    with unavailable():
        await db.command("ping")
