"""/ops for projections and consumers: each one's generation and lag, the blocking rebuild,
and replays as of a time (rebuilds as jobs: `shared/operations/rebuilds.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import Field

from shared.clock import Clock
from shared.http.routes import Body, PlausibleMoment
from shared.operations.access import OperatorChanges, Operators, ReplayId
from shared.rebuilds import AlreadyRebuilding, Rebuilds
from shared.replays import Replays
from shared.service import Service


class ReplayAsOf(Body):
    as_of: PlausibleMoment = Field(description="replay the events recorded up to this time")


def projections_router(
    services: list[Service], replays: Replays, rebuilds: Rebuilds, clock: Clock
) -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"])
    runners = {r.projection.name: r for s in services for r in s.runners}

    @router.get("/projections")
    async def projections(who: Operators) -> list[dict[str, Any]]:
        """Every projection of this app's services: generation, lag, whether it is rebuilding."""
        return [await runner.status() for runner in runners.values()]

    @router.get("/consumers")
    async def consumers(who: Operators) -> list[dict[str, Any]]:
        """Every consumer of this app's services besides projections (reactors, the audit
        ledger's consumer), with its lag where it reads the bus."""
        return [
            {"name": w.name, "service": s.name, "running": w.running, "lag": await lag()}
            for s in services
            for w in s.workers
            if callable(lag := getattr(w, "lag", None))
        ]

    @router.post("/projections/{name}/rebuild")
    async def rebuild(name: str, who: OperatorChanges) -> dict[str, Any]:
        """Replay from the start into a shadow read model, then switch to it atomically, and
        answer once switched: a rebuild job (`POST .../rebuilds`) waited for."""
        if name not in runners:
            raise HTTPException(404, f"No projection {name!r}")
        try:
            started = await rebuilds.start(name, who.sub)
        except AlreadyRebuilding as exc:
            raise HTTPException(409, str(exc)) from exc
        job = await rebuilds.wait(started["id"]) or started
        if job["status"] == "cancelled":
            raise HTTPException(409, f"Rebuild {job['id']} was cancelled by {job['cancelled_by']}")
        if job["status"] != "switched":
            raise HTTPException(503, f"Rebuild {job['id']} {job['status']}: {job['error']}")
        return {"name": name, "generation": job["generation"]}

    @router.post("/projections/{name}/replays", status_code=202)
    async def replay(
        name: str, body: ReplayAsOf, who: OperatorChanges, response: Response
    ) -> dict[str, Any]:
        """Rebuild the read model as it stood at `as_of` into a scratch generation, in the
        background: follow it at `Location`, then read it through the projection's own
        routes with `?replay=<id>`, then DELETE it."""
        if name not in runners:
            raise HTTPException(404, f"No projection {name!r}")
        if body.as_of > clock.now():
            raise HTTPException(422, "as_of is in the future: read the live read model")
        job = await replays.start(name, body.as_of, who.sub)
        response.headers["Location"] = f"/ops/replays/{job['id']}"
        return job

    @router.get("/replays/{replay_id}")
    async def replay_status(replay_id: ReplayId, who: Operators) -> dict[str, Any]:
        """A replay's progress: events read and applied, running, finished or failed."""
        job = await replays.get(replay_id)
        if job is None:
            raise HTTPException(404, f"No replay {replay_id}")
        return job

    @router.delete("/replays/{replay_id}", status_code=204)
    async def drop_replay(replay_id: ReplayId, who: OperatorChanges) -> Response:
        """Stop a replay if it runs here, and drop its scratch read model."""
        if not await replays.drop(replay_id):
            raise HTTPException(404, f"No replay {replay_id}")
        return Response(status_code=204)

    return router
