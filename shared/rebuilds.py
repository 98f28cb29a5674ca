"""Rebuilds of read models as jobs: progress, cancel, and who asked.

An operator starts a rebuild of one projection (`POST /ops/projections/{name}/rebuilds`); the
process that took the request runs it in the background (`ProjectionRunner.rebuild`: a shadow
generation filled from the first event, then the switch) and writes its progress to the job's
document in the projection's own document store, where every process serving that store reads
it (`GET /ops/rebuilds/{id}`): events done of events in all (the shadow group's lag as it
started), the rate, the time left, and who started it.

One rebuild per projection at a time, across processes: a lock document per projection
(`_rebuilding`) names the job holding it. A cancel (`DELETE /ops/rebuilds/{id}`) is recorded
in the job with the operator's name; the process running the job sees it within a poll (at once
when it is the same process), drops the shadow generation and leaves the live one serving.

A rebuild's generation is never handed out twice (`_rebuild_generations`): an abandoned one
leaves its consumer group's offsets behind, which a later rebuild must not start from.

A job's process stopping marks it failed ("stopped with its process"). A process that dies
leaves it running with a heartbeat that no longer moves: after `stale_after` seconds, the next
read of the job, or the next rebuild asked of that projection, marks it failed, drops its
shadow generation and frees the projection.
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
from shared.jobs import Jobs
from shared.operations.events import RebuildCancelled, RebuildEnded, RebuildStarted
from shared.operations.operator_log import OperatorLog
from shared.projections import ProjectionRunner
from shared.readmodels import physical, public

log = structlog.get_logger(__name__)

REBUILDS = "_rebuilds"  # rebuild jobs, by id
RUNNING = "_rebuilding"  # per projection: the job rebuilding it now
GENERATIONS = "_rebuild_generations"  # per projection: the last generation a rebuild had
_CLAIM_TRIES = 3  # looks at a projection's lock that keeps moving before answering 409


def stream_of(job_id: str) -> str:
    """The operations stream of a rebuild: started, cancelled, ended."""
    return f"rebuild-{job_id}"


class AlreadyRebuilding(Exception):
    def __init__(self, projection: str, job_id: str) -> None:
        super().__init__(f"{projection} is being rebuilt already: /ops/rebuilds/{job_id}")
        self.job_id = job_id


class NotRunning(Exception):
    def __init__(self, job_id: str, status: str) -> None:
        super().__init__(f"Rebuild {job_id} is {status}: nothing to cancel")
        self.status = status


class _CancelRequested(Exception):
    """An operator asked, through another process, to cancel the rebuild this one runs."""


def progress_fields(total: int, left: int, started: datetime, now: datetime) -> dict[str, Any]:
    """Events done (of those there were as it started: later ones do not count), the rate so
    far, and the time left at that rate (None until there is a rate)."""
    done = max(0, min(total, total - left))
    elapsed = (now - started).total_seconds()
    rate = done / elapsed if elapsed > 0 else 0.0
    return {
        "events_total": total,
        "events_done": done,
        "rate_per_second": round(rate, 1),
        "seconds_left": round((total - done) / rate, 1) if rate > 0 else None,
    }


class Rebuilds:
    """The rebuild jobs of a process's projections."""

    def __init__(
        self,
        runners: dict[str, ProjectionRunner],
        clock: Clock,
        operator_log: OperatorLog | None = None,
        *,
        poll: float = 0.25,
        timeout: float = 600.0,
        stale_after: float = 30.0,
    ) -> None:
        self._jobs = Jobs(REBUILDS, runners)
        self._clock = clock
        self._log = operator_log  # None: rebuilds are logged, not recorded as events
        self._poll = poll
        self._timeout = timeout
        self._stale_after = stale_after

    async def start(self, name: str, by: str) -> dict[str, Any]:
        """Start rebuilding projection `name`; KeyError for an unknown name, AlreadyRebuilding
        while another rebuild of it runs."""
        runner = self._jobs.runners[name]
        store = runner.read_models.store
        job_id = uuid.uuid4().hex
        await self._claim(store, name, job_id)
        now = self._clock.now().isoformat()
        try:
            job: Document = {
                "id": job_id,
                "projection": name,
                "generation": await self._next_generation(runner),
                "status": "running",
                "events_done": 0,
                "events_total": None,
                "rate_per_second": 0.0,
                "seconds_left": None,
                "started_at": now,
                "started_by": by,
                "heartbeat_at": now,
                "finished_at": None,
                "cancelled_by": None,
                "error": None,
            }
            await self._jobs.create(store, job)
            started = RebuildStarted(
                rebuild_id=job_id, projection=name, generation=job["generation"], operator=by
            )
            await self._record(job_id, started, by)
        except BaseException:
            with contextlib.suppress(Exception):  # unrecorded, it never ran: say so in the job
                await self._jobs.update(store, job_id, status="failed", error="not recorded")
            await self._release(store, name, job_id)
            raise
        self._jobs.run(job_id, self._run(runner, job))
        log.info(
            "rebuild_started",
            rebuild=job_id,
            projection=name,
            generation=job["generation"],
            operator=by,
        )
        return dict(job)

    async def get(self, job_id: str) -> dict[str, Any] | None:
        found = await self._jobs.find(job_id)
        if found is None:
            return None
        return public(await self._settled(*found))

    async def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The rebuilds started last, newest first."""
        return [
            public(await self._settled(store, doc)) or {}
            for store, doc in await self._jobs.recent(limit)
        ]

    async def wait(self, job_id: str) -> dict[str, Any] | None:
        """The job once it has ended, when this process runs it (else as it stands). The wait
        is shielded: a caller that gives up leaves the rebuild running."""
        task = self._jobs.task(job_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return await self.get(job_id)

    async def cancel(self, job_id: str, by: str) -> dict[str, Any] | None:
        """Ask the rebuild to stop, recording who asked: None when there is no such job,
        NotRunning when it has ended. When this process runs it, the answer is the job once
        cancelled (or switched, if the switch came first); otherwise the job as it stands,
        its process cancelling it within a poll."""
        found = await self._jobs.find(job_id)
        if found is None:
            return None
        store, doc = found
        doc = await self._settled(store, doc)
        if doc["status"] != "running":
            raise NotRunning(job_id, doc["status"])
        # Recorded first: what the operator asked, before the job hears of it and ends.
        cancelled = RebuildCancelled(rebuild_id=job_id, projection=doc["projection"], operator=by)
        await self._record(job_id, cancelled, by)
        while True:
            try:
                updated = await self._jobs.update(store, job_id, cancelled_by=by)
                break
            except DocumentConflict:
                continue  # its progress was written meanwhile
        log.info("rebuild_cancel_asked", rebuild=job_id, projection=doc["projection"], operator=by)
        if await self._jobs.cancel(job_id):
            return await self.get(job_id)
        return public(updated)

    async def stop(self) -> None:
        """Stop the rebuilds this process runs: each is marked failed, its shadow dropped."""
        await self._jobs.stop()

    async def _run(self, runner: ProjectionRunner, job: Document) -> None:
        store = runner.read_models.store
        job_id, name = job["id"], job["projection"]
        started = datetime.fromisoformat(job["started_at"])
        last: dict[str, Any] = {}

        async def progress(total: int, left: int) -> None:
            now = self._clock.now()
            last.update(progress_fields(total, left, started, now))
            doc = await store.get(REBUILDS, job_id)
            if doc is None or doc.get("cancelled_by"):
                raise _CancelRequested
            doc.update(last, heartbeat_at=now.isoformat())
            with contextlib.suppress(DocumentConflict):  # a cancel: seen next poll
                await put(store, REBUILDS, job_id, doc, expected_rev=int(doc["_rev"]))

        generation = int(job["generation"])
        try:
            await runner.rebuild(
                self._timeout,
                self._poll,
                generation=generation,
                progress=progress,
                stopping=self._jobs.stopping(job_id),
            )
            total = last.get("events_total") or 0
            await self._end(
                store, job_id, "switched", events_done=total, events_total=total, seconds_left=0
            )
            log.info("rebuild_switched", rebuild=job_id, projection=name, generation=generation)
        except asyncio.CancelledError:
            await self._ended_early(runner, store, job_id, generation)
            raise
        except _CancelRequested:
            await self._ended_early(runner, store, job_id, generation)
        except Exception as exc:  # noqa: BLE001 - the job records why; the process goes on
            log.warning("rebuild_failed", rebuild=job_id, projection=name, error=type(exc).__name__)
            with contextlib.suppress(Exception):
                await self._end(store, job_id, "failed", error=type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                await self._release(store, name, job_id)

    async def _ended_early(
        self, runner: ProjectionRunner, store: DocumentStore, job_id: str, generation: int
    ) -> None:
        """Record how a rebuild stopped before its end: cancelled by an operator (the job names
        them), or stopping with its process. A cancel arriving as the switch was under way
        found it done."""
        name = runner.projection.name
        switched = await runner.read_models.generation(name) == generation
        doc = await store.get(REBUILDS, job_id)
        cancelled = doc is not None and doc.get("cancelled_by") is not None
        status = "switched" if switched else "cancelled" if cancelled else "failed"
        error = None if switched or cancelled else "stopped with its process"
        await self._end(store, job_id, status, error=error)
        log.info("rebuild_ended", rebuild=job_id, projection=name, status=status)

    async def _end(self, store: DocumentStore, job_id: str, status: str, **fields: Any) -> None:
        while True:
            try:
                now = self._clock.now().isoformat()
                doc = await self._jobs.update(
                    store, job_id, status=status, finished_at=now, **fields
                )
                break
            except DocumentConflict:
                continue  # a cancel was recorded meanwhile: write over it
        if doc is not None:
            await self._record_end(doc)

    async def _record(self, job_id: str, event: RebuildStarted | RebuildCancelled, by: str) -> None:
        if self._log is not None:
            await self._log.record(stream_of(job_id), event, operator=by, subject=job_id)

    async def _record_end(self, job: Document) -> None:
        """The rebuild's end, as an event, once (two processes may both settle an abandoned
        job). Best effort: the job's document holds the end whatever happens here."""
        if self._log is None:
            return
        stream = stream_of(job["id"])
        ended = RebuildEnded(
            rebuild_id=job["id"],
            projection=job["projection"],
            status=job["status"],
            events_done=job.get("events_done"),
            error=job.get("error"),
        )
        try:
            if any(e.type == ended.type_name() for e in await self._log.store.load(stream)):
                return
            await self._log.record(stream, ended, operator=None, subject=job["id"])
        except Exception as exc:  # noqa: BLE001 - the job's document already says how it ended
            log.warning("rebuild_end_unrecorded", rebuild=job["id"], error=type(exc).__name__)

    async def _claim(self, store: DocumentStore, name: str, job_id: str) -> None:
        """Take the projection's lock for `job_id`, or raise AlreadyRebuilding. A lock that
        moved while this looked at it (its ended job letting go of it just then) is looked at
        again, a few times, before the answer is that another rebuild holds it."""
        for _ in range(_CLAIM_TRIES):
            lock = await store.get(RUNNING, name)
            if lock is not None:
                holder = await store.get(REBUILDS, lock["job"])
                if holder is not None:
                    holder = await self._settled(store, holder)
                claimed = datetime.fromisoformat(lock["claimed_at"])
                young = (self._clock.now() - claimed).total_seconds() < self._stale_after
                running = holder is not None and holder["status"] == "running"
                if (holder is None and young) or running:
                    raise AlreadyRebuilding(name, lock["job"])
                # Its job ended without letting go (as it lets go, or its process died): take
                # over, unless the lock changed meanwhile (then look again).
                gone = Write(name, None, expected_rev=int(lock["_rev"]))
                if await store.write(RUNNING, [gone]):
                    continue
            claim = {"job": job_id, "claimed_at": self._clock.now().isoformat()}
            try:
                await put(store, RUNNING, name, claim, expected_rev=0)
            except DocumentConflict:
                continue
            return
        other = await store.get(RUNNING, name)
        raise AlreadyRebuilding(name, other["job"] if other else "?")

    async def _release(self, store: DocumentStore, name: str, job_id: str) -> None:
        lock = await store.get(RUNNING, name)
        if lock is not None and lock["job"] == job_id:
            await store.write(RUNNING, [Write(name, None, expected_rev=int(lock["_rev"]))])

    async def _next_generation(self, runner: ProjectionRunner) -> int:
        """A generation after the active one that no rebuild of this projection has had."""
        store, name = runner.read_models.store, runner.projection.name
        while True:
            doc = await store.get(GENERATIONS, name)
            last = 0 if doc is None else int(doc["generation"])
            rev = 0 if doc is None else int(doc["_rev"])
            target = max(last, await runner.read_models.generation(name)) + 1
            try:
                await put(store, GENERATIONS, name, {"generation": target}, expected_rev=rev)
            except DocumentConflict:
                continue
            return target

    async def _settled(self, store: DocumentStore, doc: Document) -> Document:
        """The job, marked failed when it says running but its process has stopped beating
        (it died): its shadow generation dropped, its projection free for a new rebuild."""
        if doc["status"] != "running" or self._jobs.task(doc["id"]) is not None:
            return doc
        beat = datetime.fromisoformat(doc["heartbeat_at"])
        if (self._clock.now() - beat).total_seconds() < self._stale_after:
            return doc
        runner = self._jobs.runners.get(doc["projection"])
        if runner is not None:
            for collection in runner.projection.collections:
                await store.drop(physical(collection, int(doc["generation"])))
        with contextlib.suppress(DocumentConflict):
            failed = await self._jobs.update(
                store,
                doc["id"],
                status="failed",
                error="its process stopped answering",
                finished_at=self._clock.now().isoformat(),
            )
            if failed is not None:
                await self._record_end(failed)
        log.warning("rebuild_abandoned", rebuild=doc["id"], projection=doc["projection"])
        return await store.get(REBUILDS, doc["id"]) or doc
