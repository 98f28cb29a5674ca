"""One SQLite connection per file, used directly from the event loop's thread; and, for the
writes that want it, a writer thread that commits concurrent transactions together.

The embedded backend serves one process. Its statements take microseconds, far less than
handing work to a thread and back, which costs tens to hundreds of microseconds on a small
machine. Running them inline (`run`) also makes every `transaction` atomic with respect to
other coroutines: nothing awaits inside it.

A commit at synchronous=FULL waits for an fsync, though, which inline blocks the whole event
loop for its duration (a fraction of a millisecond on a quiet disk, milliseconds on a busy
one). `write` hands a transaction to the file's writer thread instead, with a connection of its
own: writes that arrive while one commit is syncing are committed together by the next, in one
BEGIN IMMEDIATE ... COMMIT (one fsync), each inside its own SAVEPOINT, so one that raises is
rolled back alone and its error goes to its caller only. Every caller's `write` returns after
the COMMIT that holds its work: acknowledged is on disk, as before. Readers on the loop's
connection see a write once it is committed (WAL: never half of it).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

T = TypeVar("T")

Durability = Literal["full", "normal"]

_Work = Callable[[sqlite3.Connection], Any]


class SqliteDatabase:
    """An SQLite file in WAL mode; `durability` is synchronous=FULL (fsync per commit) or NORMAL."""

    def __init__(self, path: Path | str, durability: Durability = "full") -> None:
        self.path = str(path)
        self._durability = durability
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._connect()
        self._closed = False
        # The writer: a thread with its own connection, and the writes waiting for it.
        self._writer: ThreadPoolExecutor | None = None
        self._writer_conn: sqlite3.Connection | None = None
        self._waiting: list[tuple[_Work, asyncio.Future[Any]]] = []
        self._committing: asyncio.Task[None] | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._durability.upper()}")
        # Another process on the same file (a second suite, a CLI) may hold the write lock
        # briefly; wait for it rather than fail, but not for long on the event loop.
        conn.execute("PRAGMA busy_timeout=2000")
        return conn

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` now."""
        return work(self._conn)

    def run_sync(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return work(self._conn)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in a transaction of its own that is committed (synced at FULL) when this
        returns, on the writer thread, together with the writes that arrived meanwhile. `work`
        runs on another thread: it may touch only the connection it is given. In `:memory:`
        (one connection is the whole database) it runs inline instead."""
        if self.path == ":memory:":
            return transaction(self._conn, work)
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, done))
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_waiting())
        return await done

    async def _commit_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                outcomes = await loop.run_in_executor(
                    self._writer, self._commit_group, [work for work, _ in group]
                )
            except asyncio.CancelledError:
                for _, done in group:
                    done.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - nothing of the group was written: tell each
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), (ok, value) in zip(group, outcomes, strict=True):
                if done.done():
                    continue  # its caller was cancelled: the write stands, unanswered
                if ok:
                    done.set_result(value)
                else:
                    done.set_exception(value)

    def _commit_group(self, works: list[_Work]) -> list[tuple[bool, Any]]:
        """On the writer thread: every work in one transaction, each in a savepoint."""
        if self._writer_conn is None:
            self._writer_conn = self._connect()
        conn = self._writer_conn
        outcomes: list[tuple[bool, Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for work in works:
                conn.execute("SAVEPOINT one_write")
                try:
                    result = work(conn)
                except Exception as exc:  # noqa: BLE001 - this caller's error, not the group's
                    conn.execute("ROLLBACK TO one_write")
                    conn.execute("RELEASE one_write")
                    outcomes.append((False, exc))
                    continue
                conn.execute("RELEASE one_write")
                outcomes.append((True, result))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._committing is not None:
                await asyncio.gather(self._committing, return_exceptions=True)
            if self._writer is not None:
                writer_conn = self._writer_conn
                if writer_conn is not None:
                    await asyncio.get_running_loop().run_in_executor(
                        self._writer, writer_conn.close
                    )
                self._writer.shutdown(wait=True)
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
