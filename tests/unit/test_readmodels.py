"""Waiting for a read model: a version the stream has is waited for, one it lacks is refused."""

from __future__ import annotations

import time

import pytest

from shared.documents.port import put
from shared.documents.sqlite import SqliteDocumentStore
from shared.readmodels import NotWritten, ReadModels, physical
from shared.sqlite import SqliteDatabase


async def test_a_version_the_stream_does_not_have_is_refused_without_waiting() -> None:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    read_models = ReadModels(store)

    async def head(stream: str) -> int:
        assert stream == "acme:s1"
        return 3

    started = time.monotonic()
    with pytest.raises(NotWritten, match="^stream acme:s1 is at version 3; after_version 4 does"):
        await read_models.wait_for("p", "things", "t1", "acme:s1", 4, 60.0, head)

    assert time.monotonic() - started < 20.0  # not the 60 s bound
    await store.close()


async def test_a_version_the_stream_has_is_waited_for_up_to_the_bound() -> None:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    read_models = ReadModels(store)
    await put(store, physical("things", 1), "t1", {"_seen": {"acme:s1": 2}})

    async def head(_: str) -> int:
        return 3

    assert await read_models.wait_for("p", "things", "t1", "acme:s1", 3, 0.2, head) is False
    assert await read_models.wait_for("p", "things", "t1", "acme:s1", 2, 0.2, head) is True
    await store.close()


async def test_a_read_model_that_has_the_version_asks_nothing_of_the_event_store() -> None:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    read_models = ReadModels(store)
    await put(store, physical("things", 1), "t1", {"_seen": {"acme:s1": 5}})

    async def head(_: str) -> int:
        raise AssertionError("the event store was asked")

    assert await read_models.wait_for("p", "things", "t1", "acme:s1", 5, 1.0, head) is True
    await store.close()
