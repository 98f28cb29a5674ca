"""Background jobs over a process's projections (replays as of a time, rebuilds), each one a
document in its projection's own document store, so that every process serving that store can
read how it goes, while the process that took the request runs it.

This is the bookkeeping they share: the stores to look in, the job documents (created once,
updated field by field, found by id, listed), and the tasks this process runs for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from shared.documents.port import Document, DocumentStore, Write, put
from shared.projections import ProjectionRunner


class Jobs:
    """The job documents of one collection, across the stores of a process's projections."""

    def __init__(self, collection: str, runners: dict[str, ProjectionRunner]) -> None:
        self.collection = collection
        self.runners = runners
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started: dict[str, asyncio.Event] = {}
        self._stopping: dict[str, asyncio.Event] = {}

    def stores(self) -> list[DocumentStore]:
        stores: dict[int, DocumentStore] = {}
        for runner in self.runners.values():
            stores.setdefault(id(runner.read_models.store), runner.read_models.store)
        return list(stores.values())

    async def create(self, store: DocumentStore, job: Document) -> None:
        await put(store, self.collection, job["id"], job, expected_rev=0)

    def run(self, job_id: str, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `work` for the job in this process, in the background."""
        started = self._started[job_id] = asyncio.Event()
        self._stopping[job_id] = asyncio.Event()

        async def running() -> None:
            started.set()
            await work

        task = asyncio.create_task(running())
        self._tasks[job_id] = task

        def ended(_: asyncio.Task[None]) -> None:
            self._tasks.pop(job_id, None)
            self._started.pop(job_id, None)
            self._stopping.pop(job_id, None)

        task.add_done_callback(ended)
        return task

    def stopping(self, job_id: str) -> asyncio.Event:
        """Set when this process stops the job, just before its task is cancelled. The work's
        loops read it every turn: a call inside them (a client library's retry) may swallow
        the CancelledError, and the loop would then go on while the stop waits on it."""
        return self._stopping.get(job_id) or asyncio.Event()  # none: not running here

    def task(self, job_id: str) -> asyncio.Task[None] | None:
        """The task running the job here; None when another process runs it, or none does."""
        return self._tasks.get(job_id)

    async def update(self, store: DocumentStore, job_id: str, **fields: Any) -> Document | None:
        """Set these fields of the job; raises DocumentConflict when another writer changed it
        meanwhile, and returns None when the job is gone (dropped by another process)."""
        doc = await store.get(self.collection, job_id)
        if doc is None:
            return None
        doc.update(fields)
        await put(store, self.collection, job_id, doc, expected_rev=int(doc["_rev"]))
        doc["_rev"] = int(doc["_rev"]) + 1
        return doc

    async def find(self, job_id: str) -> tuple[DocumentStore, Document] | None:
        for store in self.stores():
            doc = await store.get(self.collection, job_id)
            if doc is not None:
                return store, doc
        return None

    async def recent(self, limit: int) -> list[tuple[DocumentStore, Document]]:
        """The jobs started last, newest first, from every store."""
        found = [
            (store, doc)
            for store in self.stores()
            for doc in await store.find(self.collection, sort=[("started_at", -1)], limit=limit)
        ]
        found.sort(key=lambda pair: str(pair[1]["started_at"]), reverse=True)
        return found[:limit]

    async def delete(self, store: DocumentStore, job_id: str) -> None:
        await store.write(self.collection, [Write(doc_id=job_id, doc=None)])

    async def cancel(self, job_id: str) -> bool:
        """Cancel the job's task if this process runs it, and wait for it to end."""
        task = self._tasks.pop(job_id, None)
        if task is None:
            return False
        await self._under_way(job_id)
        self.stopping(job_id).set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True

    async def stop(self) -> None:
        """Cancel every job this process runs (their documents stay as they were)."""
        tasks, self._tasks = list(self._tasks.values()), {}
        for job_id in list(self._started):
            await self._under_way(job_id)
        for stopping in self._stopping.values():
            stopping.set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _under_way(self, job_id: str) -> None:
        """Wait until the job's work has begun. A task cancelled before its first step never
        runs its code, so the work could not record that it was cancelled: its document would
        say "running" until it went stale. Begun, the work is inside its own handlers."""
        started = self._started.get(job_id)
        if started is not None:
            await started.wait()
