"""Providers' availability over HTTP: weekly templates and blocked time, scheduling's own,
set by a site's managers. Who the providers are, their licences, time off and termination
scheduling learns from staffing's events (application/staffing.py), never over its own API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field

from services.scheduling.api.directory import (
    Body,
    Day,
    Id,
    Moment,
    Name,
    Recorded,
    SiteManagers,
    check_site,
)
from services.scheduling.api.directory import recorded as recorded_outcome
from services.scheduling.application.commands import Scheduling
from services.scheduling.domain import providers
from services.scheduling.domain.events import Window
from shared.http.app import metadata
from shared.http.identity import Principal


class AvailabilityIn(Body):
    """A weekly template at a site (local times), in force from `effective_from`."""

    template_id: Id | None = None
    site_id: Id
    windows: list[Window] = Field(min_length=1, max_length=50)
    effective_from: Day
    effective_until: Day | None = None


class BlockIn(Body):
    block_id: Id | None = None
    site_id: Id
    start: Moment
    end: Moment
    reason: Name


def build_router(scheduling: Scheduling) -> APIRouter:
    router = APIRouter(prefix="/scheduling/providers/{provider_id}", tags=["providers"])

    @router.post("/availability", status_code=201)
    async def set_availability(
        request: Request, provider_id: Id, body: AvailabilityIn, who: Principal = SiteManagers
    ) -> Recorded:
        """Weekly windows within the site's opening hours, never overlapping the provider's
        windows at another site."""
        check_site(who, body.site_id)
        template_id = body.template_id or scheduling.new_id()
        outcome = await scheduling.set_availability(
            metadata(request, who),
            provider_id=provider_id,
            site_id=body.site_id,
            template_id=template_id,
            windows=tuple(body.windows),
            effective_from=body.effective_from,
            effective_until=body.effective_until,
        )
        return recorded_outcome(template_id, outcome)

    @router.post("/blocks", status_code=201)
    async def block_time(
        request: Request, provider_id: Id, body: BlockIn, who: Principal = SiteManagers
    ) -> Recorded:
        check_site(who, body.site_id)
        block_id = body.block_id or scheduling.new_id()
        command = providers.BlockTime(
            provider_id=provider_id,
            block_id=block_id,
            start=body.start,
            end=body.end,
            reason=body.reason,
        )
        meta = metadata(request, who).model_copy(update={"site": body.site_id})
        outcome = await scheduling.change_provider(meta, command)
        return recorded_outcome(block_id, outcome)

    return router
