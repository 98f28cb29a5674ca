"""Group commit on an SQLite file: writes that arrive while one commit syncs are committed
together by the next; each is rolled back alone when it fails; each returns once on disk."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from shared.sqlite import SqliteDatabase


def _make(path: Path) -> SqliteDatabase:
    db = SqliteDatabase(path)
    db.run_sync(lambda c: c.execute("CREATE TABLE rows (n INTEGER PRIMARY KEY)"))
    return db


def _insert(n: int) -> Any:
    def work(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO rows VALUES (?)", (n,))
        return n

    return work


def _rows(path: Path) -> list[int]:
    """What another connection (another process) finds on disk."""
    with sqlite3.connect(path) as conn:
        return [n for (n,) in conn.execute("SELECT n FROM rows ORDER BY n")]


async def test_writes_arriving_during_a_commit_are_committed_together_by_the_next(
    tmp_path: Path,
) -> None:
    db = _make(tmp_path / "group.db")
    groups: list[int] = []
    commit_group = db._commit_group
    first_started, release_first = threading.Event(), threading.Event()

    def counting(works: list[Any]) -> list[tuple[bool, Any]]:
        groups.append(len(works))
        if len(groups) == 1:
            first_started.set()
            release_first.wait(10)  # the first commit "syncs" until the others are waiting
        return commit_group(works)

    db._commit_group = counting  # type: ignore[method-assign]
    first = asyncio.create_task(db.write(_insert(0)))
    await asyncio.get_running_loop().run_in_executor(None, first_started.wait, 10)
    others = [asyncio.create_task(db.write(_insert(n))) for n in range(1, 8)]
    await asyncio.sleep(0)
    release_first.set()
    assert await asyncio.gather(first, *others) == list(range(8))
    assert groups == [1, 7]  # eight writes, two transactions: two fsyncs instead of eight
    assert _rows(tmp_path / "group.db") == list(range(8))
    await db.close()


async def test_a_failing_write_is_rolled_back_alone_and_its_error_goes_to_its_caller(
    tmp_path: Path,
) -> None:
    db = _make(tmp_path / "group.db")

    def half_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO rows VALUES (100)")
        raise ValueError("refused after writing")

    results = await asyncio.gather(
        db.write(_insert(1)),
        db.write(half_then_fail),
        db.write(_insert(2)),
        db.write(_insert(1)),  # a duplicate key: the database refuses this one alone
        return_exceptions=True,
    )
    assert results[0] == 1
    assert results[2] == 2
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], sqlite3.IntegrityError)
    assert _rows(tmp_path / "group.db") == [1, 2]  # nothing of the failed ones
    await db.close()


async def test_a_write_is_on_disk_and_read_by_the_loops_connection_when_it_returns(
    tmp_path: Path,
) -> None:
    db = _make(tmp_path / "group.db")
    for n in range(3):
        await db.write(_insert(n))
        assert _rows(tmp_path / "group.db") == list(range(n + 1))
        seen = await db.run(lambda c: c.execute("SELECT COUNT(*) FROM rows").fetchone()[0])
        assert seen == n + 1
    await db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        await db.write(_insert(9))


async def test_in_memory_writes_run_inline_on_the_one_connection() -> None:
    db = SqliteDatabase(":memory:")
    db.run_sync(lambda c: c.execute("CREATE TABLE rows (n INTEGER PRIMARY KEY)"))
    assert await db.write(_insert(5)) == 5
    assert await db.run(lambda c: c.execute("SELECT n FROM rows").fetchall()) == [(5,)]
    await db.close()
