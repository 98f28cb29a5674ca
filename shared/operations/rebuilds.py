"""/ops for rebuilds as jobs: start one, follow its progress, list them, cancel one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from shared.operations.access import JobId, OperatorChanges, Operators
from shared.rebuilds import AlreadyRebuilding, NotRunning, Rebuilds


def rebuilds_router(rebuilds: Rebuilds, projections: set[str]) -> APIRouter:
    router = APIRouter(prefix="/ops", tags=["operations"])

    @router.post("/projections/{name}/rebuilds", status_code=202)
    async def start(name: str, who: OperatorChanges, response: Response) -> dict[str, Any]:
        """Rebuild a read model in the background: replay from the start into a shadow
        generation, then switch to it. Follow it at `Location`; 409 while one runs."""
        if name not in projections:
            raise HTTPException(404, f"No projection {name!r}")
        try:
            job = await rebuilds.start(name, who.sub)
        except AlreadyRebuilding as exc:
            raise HTTPException(409, str(exc)) from exc
        response.headers["Location"] = f"/ops/rebuilds/{job['id']}"
        return job

    @router.get("/rebuilds")
    async def recent(
        who: Operators, limit: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> list[dict[str, Any]]:
        """The rebuilds started last, newest first."""
        return await rebuilds.recent(limit)

    @router.get("/rebuilds/{rebuild_id}")
    async def progress(rebuild_id: JobId, who: Operators) -> dict[str, Any]:
        """A rebuild's status (running, switched, cancelled, failed), its events done of
        those in all, the rate, the seconds left, and who started or cancelled it."""
        job = await rebuilds.get(rebuild_id)
        if job is None:
            raise HTTPException(404, f"No rebuild {rebuild_id}")
        return job

    @router.delete("/rebuilds/{rebuild_id}")
    async def cancel(rebuild_id: JobId, who: OperatorChanges, response: Response) -> dict[str, Any]:
        """Cancel a running rebuild: its shadow generation is dropped, the live read model
        serves on. 200 with the job once cancelled; 202 when another process runs it (it
        stops within a poll); 409 when it has ended."""
        try:
            job = await rebuilds.cancel(rebuild_id, who.sub)
        except NotRunning as exc:
            raise HTTPException(409, str(exc)) from exc
        if job is None:
            raise HTTPException(404, f"No rebuild {rebuild_id}")
        if job["status"] == "running":
            response.status_code = 202
        return job

    return router
