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

`write_here` takes the same queue, but runs its statements on the loop's thread (against the
writer's connection, when no commit is under way) and hands only the COMMIT to the writer
thread: hundreds of rows bound one by one on the writer thread would each wait for the
interpreter while the loop works, and the sync is what takes the time. A group of one write
runs without a savepoint (which copies every page it touches): its failure rolls it back whole.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

T = TypeVar("T")

Durability = Literal["full", "normal"]

_Work = Callable[[sqlite3.Connection], Any]


class SqliteDatabase:
    """An SQLite file in WAL mode; `durability` is synchronous=FULL (fsync per commit) or NORMAL."""

    def __init__(self, path: Path | str, durability: Durability = "full") -> None:
        self.path = str(path)
        self._durability = durability
        self._pragmas: tuple[str, ...] = ()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._connect()
        self._closed = False
        # The writer: a thread with its own connection, and the writes waiting for it.
        self._writer: ThreadPoolExecutor | None = None
        self._writer_conn: sqlite3.Connection | None = None
        self._waiting: list[_Waiting] = []
        self._committing: asyncio.Future[Any] | None = None  # the group the writer commits

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._durability.upper()}")
        # Another process on the same file (a second suite, a CLI) may hold the write lock
        # briefly; wait for it rather than fail, but not for long on the event loop.
        conn.execute("PRAGMA busy_timeout=2000")
        for pragma in self._pragmas:
            conn.execute(pragma)
        return conn

    def tune(self, *pragmas: str) -> None:
        """Per-connection PRAGMAs (cache size, checkpointing) for every connection to the file:
        the loop's now, the writer's when it opens. Meant for setting up, before writes."""
        self._pragmas += pragmas
        for pragma in pragmas:
            self._conn.execute(pragma)
            if self._writer_conn is not None and self._committing is None:
                self._writer_conn.execute(pragma)

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
        return await self._enqueue(work, here=False)

    async def write_here(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """As `write`, but `work` runs on the calling (event loop's) thread, against the
        writer's connection, as soon as no other commit is under way; only its COMMIT (the
        fsync) goes to the writer thread. For a write whose statements hold the interpreter
        (hundreds of rows bound one by one: on the writer thread each would wait for the loop
        to let go of it) while the loop, freed during the sync, does other work (decodes the
        next batch)."""
        return await self._enqueue(work, here=True)

    async def _enqueue(self, work: Callable[[sqlite3.Connection], T], *, here: bool) -> T:
        if self.path == ":memory:":
            return transaction(self._conn, work)
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(work, done, here))
        if self._committing is None:
            self._start_group()
        return await done

    def _start_group(self) -> None:
        """Commit every waiting write in one transaction: the works meant for this thread run
        here now, the rest and the COMMIT on the writer thread. Started at once (no task in
        between): the sync begins before the caller's next step."""
        loop = asyncio.get_running_loop()
        group, self._waiting = self._waiting, []
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        if self._writer_conn is None:
            self._writer_conn = self._connect()
        outcomes: list[_Outcome | None] = [None] * len(group)
        begun = False
        if any(w.here for w in group):
            try:
                self._writer_conn.execute("BEGIN IMMEDIATE")
            except Exception as exc:  # noqa: BLE001 - nothing of the group was written: tell each
                self._answer(group, exc)
                return
            begun = True
            here = [(i, w.work) for i, w in enumerate(group) if w.here]
            try:
                ran = _run_works(self._writer_conn, here, outcomes, alone=len(group) == 1)
            except Exception as exc:  # noqa: BLE001 - a savepoint failed: the group is lost
                if self._writer_conn.in_transaction:
                    self._writer_conn.execute("ROLLBACK")
                self._answer(group, exc)
                return
            if not ran:
                self._answer(group, outcomes)  # its one work failed: rolled back, nothing to sync
                return
        there = [(i, w.work) for i, w in enumerate(group) if not w.here]
        self._committing = loop.run_in_executor(
            self._writer, self._commit_group, there, outcomes, begun
        )
        self._committing.add_done_callback(functools.partial(self._committed, group))

    def _committed(self, group: list[_Waiting], committing: asyncio.Future[Any]) -> None:
        self._committing = None
        if committing.cancelled():
            for w in group:
                w.done.cancel()
        elif (exc := committing.exception()) is not None:
            self._answer(group, exc)
        else:
            self._answer(group, committing.result())
        if self._waiting:
            self._start_group()

    @staticmethod
    def _answer(group: list[_Waiting], outcomes: Sequence[_Outcome | None] | BaseException) -> None:
        for i, w in enumerate(group):
            if w.done.done():
                continue  # its caller was cancelled: the write stands, unanswered
            if isinstance(outcomes, BaseException):
                w.done.set_exception(outcomes)
                continue
            outcome = outcomes[i]
            assert outcome is not None
            ok, value = outcome
            if ok:
                w.done.set_result(value)
            else:
                w.done.set_exception(value)

    def _commit_group(
        self, works: list[tuple[int, _Work]], outcomes: list[_Outcome | None], begun: bool
    ) -> list[_Outcome | None]:
        """On the writer thread: the works not yet run, then one COMMIT for the group (begun
        on the loop's thread when some of it ran there)."""
        assert self._writer_conn is not None
        conn = self._writer_conn
        if not begun:
            conn.execute("BEGIN IMMEDIATE")
        try:
            if not _run_works(conn, works, outcomes, alone=len(outcomes) == 1):
                return outcomes  # its one work failed: rolled back whole
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
            while self._committing is not None:  # each group answered starts the next
                await asyncio.wait([self._committing])
            if self._writer is not None:
                writer_conn = self._writer_conn
                if writer_conn is not None:
                    await asyncio.get_running_loop().run_in_executor(
                        self._writer, writer_conn.close
                    )
                self._writer.shutdown(wait=True)
            self._conn.close()


_Outcome = tuple[bool, Any]  # (True, its result) or (False, its error)


class _Waiting(NamedTuple):
    work: _Work
    done: asyncio.Future[Any]
    here: bool  # run on the loop's thread (`write_here`), not the writer's


def _run_works(
    conn: sqlite3.Connection,
    works: list[tuple[int, _Work]],
    outcomes: list[_Outcome | None],
    *,
    alone: bool,
) -> bool:
    """Run each work inside the open transaction, each in its own SAVEPOINT so that one that
    raises is rolled back alone; its error goes in its outcome. A group of one needs no
    savepoint (which copies every page it touches): its failure rolls the transaction back,
    and then this returns False."""
    for i, work in works:
        if alone:
            try:
                outcomes[i] = (True, work(conn))
            except Exception as exc:  # noqa: BLE001 - this caller's error, not the group's
                conn.execute("ROLLBACK")
                outcomes[i] = (False, exc)
                return False
            continue
        conn.execute("SAVEPOINT one_write")
        try:
            result = work(conn)
        except Exception as exc:  # noqa: BLE001 - this caller's error, not the group's
            conn.execute("ROLLBACK TO one_write")
            conn.execute("RELEASE one_write")
            outcomes[i] = (False, exc)
            continue
        conn.execute("RELEASE one_write")
        outcomes[i] = (True, result)
    return True


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
