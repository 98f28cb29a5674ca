"""The visits a site's front desk must move: booked with a provider who can no longer see
them then (licence ended, terminated, on leave or time off...)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from services.scheduling.api.directory import Id, check_site
from services.scheduling.application.commands import Scheduling
from services.scheduling.projections.to_reschedule import (
    PROJECTION,
    PROVIDERS,
    VISITS,
    provider_doc_id,
)
from shared.access import record_disclosure
from shared.http.identity import Principal, policy
from shared.http.routes import read_after
from shared.readmodels import ReadModels, public

FrontDesk = policy("front_desk", "manager", site_scoped=True)

FIELDS = ("appointment_id", "patient_id", "provider_id", "site_id", "date", "start", "end")


def build_router(scheduling: Scheduling, read_models: ReadModels, wait_timeout: float) -> APIRouter:
    router = APIRouter(prefix="/scheduling", tags=["appointments"])

    @router.get("/sites/{site_id}/to-reschedule")
    async def to_reschedule(
        request: Request,
        site_id: Id,
        who: Principal = FrontDesk,
        provider_id: Id | None = None,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> list[dict[str, Any]]:
        """The site's open visits whose provider cannot see them as booked, in start order,
        each with the reason. `after_stream` and `after_version` (a provider stream's, e.g.
        the version at which scheduling recorded a licence's end) wait until the list
        includes that change; a version the stream does not have is a 422."""
        check_site(who, site_id)
        if after_version is not None:
            prefix = f"{who.tenant}:provider:"
            changed = (after_stream or "").removeprefix(prefix)
            if after_stream is None or not after_stream.startswith(prefix) or not changed:
                raise HTTPException(400, "after_version needs the provider stream it belongs to")
            await read_after(
                read_models,
                PROJECTION,
                PROVIDERS,
                provider_doc_id(who.tenant, changed),
                after_stream,
                after_version,
                wait_timeout,
                scheduling.stream_version,
            )
        where: dict[str, Any] = {"tenant": who.tenant, "site_id": site_id, "listed": True}
        if provider_id is not None:
            where["provider_id"] = provider_id
        docs = [public(d) or {} for d in await read_models.find(PROJECTION, VISITS, where)]
        listed = sorted(
            ({**{k: d[k] for k in FIELDS}, "reason": d["reason"]} for d in docs),
            key=lambda v: (v["start"], v["appointment_id"]),
        )
        await record_disclosure(scheduling, request, who, [v["patient_id"] for v in listed])
        return listed

    return router
