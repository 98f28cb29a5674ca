"""Read models as of a time: a projection replayed into a scratch generation, as a job.

An operator starts a replay of one projection as of a time (`POST /ops/projections/{name}/
replays`); the process that took the request runs it in the background, writing its progress
(events read, events applied, finished or failed) to the job's document in the projection's
own document store, where every process can read it (`GET /ops/replays/{id}`). Once finished,
any read route of that projection answers as of then when the request names the replay
(`?replay=<id>`: `shared/readmodels.py` reads the scratch generation), with the route's own
policy, so each tenant still sees only its own data. `DELETE /ops/replays/{id}` drops it.

Scratch generations are negative (`-1`, `-2`, ...: a rebuild only counts up from 1), counted per
document store, so they never meet a live generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime
from typing import Any

import structlog

from shared.clock import Clock
from shared.documents.port import Document, DocumentConflict, DocumentStore, Write, put
from shared.projections import ProjectionRunner
from shared.readmodels import REPLAYS, physical, public

log = structlog.get_logger(__name__)

COUNTER = "_replay_generations"  # one document: the last scratch generation handed out


async def _next_scratch(store: DocumentStore) -> int:
    """A scratch generation no other replay in this store has had."""
    while True:
        doc = await store.get(COUNTER, "last")
        last = 0 if doc is None else int(doc["generation"])
        rev = 0 if doc is None else int(doc["_rev"])
        try:
            await put(store, COUNTER, "last", {"generation": last - 1}, expected_rev=rev)
        except DocumentConflict:
            continue  # another replay took it: count on
        return last - 1


class Replays:
    """The replay jobs of a process's projections."""

    def __init__(self, runners: dict[str, ProjectionRunner], clock: Clock) -> None:
        self._runners = runners
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def _stores(self) -> list[DocumentStore]:
        stores: dict[int, DocumentStore] = {}
        for runner in self._runners.values():
            stores.setdefault(id(runner.read_models.store), runner.read_models.store)
        return list(stores.values())

    async def start(self, name: str, as_of: datetime, by: str) -> dict[str, Any]:
        """Start replaying projection `name` as of `as_of`; KeyError for an unknown name."""
        runner = self._runners[name]
        store = runner.read_models.store
        replay_id = uuid.uuid4().hex
        job: Document = {
            "id": replay_id,
            "projection": name,
            "as_of": as_of.isoformat(),
            "generation": await _next_scratch(store),
            "status": "running",
            "events_read": 0,
            "events_applied": 0,
            "started_at": self._clock.now().isoformat(),
            "started_by": by,
            "finished_at": None,
            "error": None,
        }
        await put(store, REPLAYS, replay_id, job, expected_rev=0)
        self._tasks[replay_id] = asyncio.create_task(self._run(runner, job))
        log.info("replay_started", replay=replay_id, projection=name, as_of=job["as_of"])
        return job

    async def _run(self, runner: ProjectionRunner, job: Document) -> None:
        store = runner.read_models.store
        replay_id = job["id"]

        async def update(**fields: Any) -> None:
            doc = await store.get(REPLAYS, replay_id)
            if doc is None:
                return  # dropped meanwhile (by another process): nothing left to tell
            doc.update(fields)
            await put(store, REPLAYS, replay_id, doc, expected_rev=int(doc["_rev"]))

        async def progress(read: int, applied: int) -> None:
            # Inside the bus's handler: a failed progress note must not fail the batch.
            with contextlib.suppress(DocumentConflict):
                await update(events_read=read, events_applied=applied)

        try:
            as_of = datetime.fromisoformat(job["as_of"])
            read, applied = await runner.replay(int(job["generation"]), as_of, progress)
            await update(
                status="finished",
                events_read=read,
                events_applied=applied,
                finished_at=self._clock.now().isoformat(),
            )
            log.info("replay_finished", replay=replay_id, events=applied)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the job records why; the process goes on
            log.warning("replay_failed", replay=replay_id, error=type(exc).__name__)
            with contextlib.suppress(Exception):
                await update(status="failed", error=type(exc).__name__)
        finally:
            self._tasks.pop(replay_id, None)

    async def get(self, replay_id: str) -> dict[str, Any] | None:
        found = await self._find(replay_id)
        return None if found is None else public(found[1])

    async def _find(self, replay_id: str) -> tuple[DocumentStore, Document] | None:
        for store in self._stores():
            doc = await store.get(REPLAYS, replay_id)
            if doc is not None:
                return store, doc
        return None

    async def drop(self, replay_id: str) -> bool:
        """Stop the replay if this process runs it, drop its scratch collections and its job;
        False when there is no such replay."""
        found = await self._find(replay_id)
        if found is None:
            return False
        store, doc = found
        task = self._tasks.pop(replay_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        runner = self._runners.get(doc["projection"])
        if runner is not None:
            for collection in runner.projection.collections:
                await store.drop(physical(collection, int(doc["generation"])))
        await store.write(REPLAYS, [Write(doc_id=replay_id, doc=None)])
        log.info("replay_dropped", replay=replay_id)
        return True

    async def stop(self) -> None:
        """Cancel the replays this process runs (their jobs stay, marked running)."""
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
