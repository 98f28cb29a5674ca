"""Read-model writes on SQLite wait for the file's lock on the writer thread, not the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from shared.documents.port import Write
from shared.documents.sqlite import SqliteDocumentStore
from shared.sqlite import SqliteDatabase


async def test_a_write_waiting_for_the_file_lock_leaves_the_event_loop_running(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.db"
    store = SqliteDocumentStore(SqliteDatabase(path))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        write = asyncio.create_task(
            store.write("c", [Write(doc_id="d", doc={"n": 1}, expected_rev=0)])
        )
        await asyncio.sleep(0)  # the write starts; inline, it would hold the loop until here
        await asyncio.sleep(0)
        assert not write.done()  # the loop came back while the write still waits
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await asyncio.wait_for(write, timeout=10) == []
    stored = await store.get("c", "d")
    assert stored is not None
    assert stored["n"] == 1
    await store.close()
