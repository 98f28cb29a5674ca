"""One SQLite connection per file, used directly from the event loop's thread.

The embedded backend serves one process. Its statements take microseconds (a commit at
synchronous=FULL waits for one fsync), far less than handing work to a thread and back, which
costs a few hundred microseconds on a small machine. Running them inline also makes every
`transaction` atomic with respect to other coroutines: nothing awaits inside it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

T = TypeVar("T")

Durability = Literal["full", "normal"]


class SqliteDatabase:
    """An SQLite file in WAL mode; `durability` is synchronous=FULL (fsync per commit) or NORMAL."""

    def __init__(self, path: Path | str, durability: Durability = "full") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={durability.upper()}")
        # Another process on the same file (a second suite, a CLI) may hold the write lock
        # briefly; wait for it rather than fail, but not for long on the event loop.
        self._conn.execute("PRAGMA busy_timeout=2000")
        self._closed = False

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` now."""
        return work(self._conn)

    def run_sync(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return work(self._conn)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._conn.close()


def transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` inside BEGIN IMMEDIATE … COMMIT, rolling back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
