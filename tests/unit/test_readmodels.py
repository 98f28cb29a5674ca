"""Waiting for a read model: a document that appears while the caller checks is not missed."""

from __future__ import annotations

from shared.documents.port import put
from shared.documents.sqlite import SqliteDocumentStore
from shared.readmodels import ReadModels, physical
from shared.sqlite import SqliteDatabase


async def test_a_document_written_while_checking_the_lag_is_found() -> None:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    read_models = ReadModels(store)

    async def caught_up_meanwhile() -> bool:
        # The projection writes the document and catches up between the read and this check.
        await put(store, physical("things", 1), "t1", {"n": 1})
        return False

    found = await read_models.wait_exists("p", "things", "t1", 5.0, caught_up_meanwhile)

    assert found is not None
    assert found["n"] == 1
    await store.close()
