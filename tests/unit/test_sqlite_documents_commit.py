"""The SQLite document store writes on the event loop's thread and leaves the COMMIT (its
fsync) to the file's writer thread: the loop goes on meanwhile (a projection decodes its next
batch), and a write returns once its documents are on disk."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from shared.documents.port import Write
from shared.documents.sqlite import SqliteDocumentStore
from shared.sqlite import SqliteDatabase


def _on_disk(path: Path) -> list[str]:
    """What another connection (another process) finds committed."""
    with sqlite3.connect(path) as conn:
        return [i for (i,) in conn.execute("SELECT id FROM documents ORDER BY id")]


async def test_the_loop_goes_on_while_a_documents_commit_syncs(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "docs.db", "full")
    store = SqliteDocumentStore(db)
    commit_group = db._commit_group
    syncing, release = threading.Event(), threading.Event()

    def slow_commit(works: list[Any], outcomes: list[Any], begun: bool) -> list[Any]:
        syncing.set()
        release.wait(10)
        return commit_group(works, outcomes, begun)

    db._commit_group = slow_commit  # type: ignore[method-assign]
    writes = [Write(doc_id=f"d{n}", doc={"n": n}, expected_rev=0) for n in range(3)]
    written = asyncio.create_task(store.write("c", writes))
    started = await asyncio.get_running_loop().run_in_executor(None, syncing.wait, 5)
    assert started, "the commit ran on the loop's thread"
    ticks = 0
    for _ in range(3):  # the loop is free while the commit syncs
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 3
    assert not written.done()
    assert _on_disk(tmp_path / "docs.db") == []  # not acknowledged, not committed
    release.set()
    assert await written == []
    assert _on_disk(tmp_path / "docs.db") == ["d0", "d1", "d2"]
    assert (await store.get("c", "d1")) == {"_id": "d1", "_rev": 1, "n": 1}
    await store.close()


async def test_the_writers_connection_gets_the_stores_tuning(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "docs.db", "full")
    store = SqliteDocumentStore(db)
    await store.write("c", [Write(doc_id="d", doc={"n": 1}, expected_rev=0)])

    def tuning(conn: sqlite3.Connection) -> list[int]:
        return [
            conn.execute(f"PRAGMA {pragma}").fetchone()[0]
            for pragma in ("cache_size", "wal_autocheckpoint")
        ]

    assert await db.write(tuning) == [-65536, 8192]
    await store.close()
