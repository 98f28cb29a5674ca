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
from shared.documents.port import Document, DocumentConflict, DocumentStore, put
from shared.jobs import Jobs
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
        self._jobs = Jobs(REPLAYS, runners)
        self._clock = clock

    async def start(self, name: str, as_of: datetime, by: str) -> dict[str, Any]:
        """Start replaying projection `name` as of `as_of`; KeyError for an unknown name."""
        runner = self._jobs.runners[name]
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
        await self._jobs.create(store, job)
        self._jobs.run(replay_id, self._run(runner, job))
        log.info("replay_started", replay=replay_id, projection=name, as_of=job["as_of"])
        return job

    async def _run(self, runner: ProjectionRunner, job: Document) -> None:
        store = runner.read_models.store
        replay_id = job["id"]

        async def progress(read: int, applied: int) -> None:
            # Inside the bus's handler: a failed progress note must not fail the batch.
            with contextlib.suppress(DocumentConflict):
                await self._jobs.update(store, replay_id, events_read=read, events_applied=applied)

        try:
            as_of = datetime.fromisoformat(job["as_of"])
            read, applied = await runner.replay(
                int(job["generation"]), as_of, progress, stopping=self._jobs.stopping(replay_id)
            )
            await self._jobs.update(
                store,
                replay_id,
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
                await self._jobs.update(store, replay_id, status="failed", error=type(exc).__name__)

    async def get(self, replay_id: str) -> dict[str, Any] | None:
        found = await self._jobs.find(replay_id)
        return None if found is None else public(found[1])

    async def drop(self, replay_id: str) -> bool:
        """Stop the replay if this process runs it, drop its scratch collections and its job;
        False when there is no such replay."""
        found = await self._jobs.find(replay_id)
        if found is None:
            return False
        store, doc = found
        await self._jobs.cancel(replay_id)
        runner = self._jobs.runners.get(doc["projection"])
        if runner is not None:
            for collection in runner.projection.collections:
                await store.drop(physical(collection, int(doc["generation"])))
        await self._jobs.delete(store, replay_id)
        log.info("replay_dropped", replay=replay_id)
        return True

    async def stop(self) -> None:
        """Cancel the replays this process runs (their jobs stay, marked running)."""
        await self._jobs.stop()
