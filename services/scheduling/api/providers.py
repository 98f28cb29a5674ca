"""Providers' licences, time off and availability over HTTP.

Licences, time off and deactivation will come from the staffing service's events; until it
exists these admin endpoints stand in for it. Availability (weekly templates and blocked time)
is scheduling's own, set by a site's managers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field

from services.scheduling.api.directory import (
    Admins,
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


class LicenceIn(Body):
    licence_id: Id | None = None
    kind: Name
    valid_from: Day
    valid_until: Day


class TimeOffIn(Body):
    time_off_id: Id | None = None
    start: Moment
    end: Moment


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

    @router.post("/licences", status_code=201)
    async def record_licence(
        request: Request, provider_id: Id, body: LicenceIn, who: Principal = Admins
    ) -> Recorded:
        licence_id = body.licence_id or scheduling.new_id()
        command = providers.RecordLicence(
            provider_id=provider_id, **{**body.model_dump(), "licence_id": licence_id}
        )
        outcome = await scheduling.change_provider(metadata(request, who), command)
        return recorded_outcome(licence_id, outcome)

    @router.post("/time-off", status_code=201)
    async def approve_time_off(
        request: Request, provider_id: Id, body: TimeOffIn, who: Principal = Admins
    ) -> Recorded:
        time_off_id = body.time_off_id or scheduling.new_id()
        command = providers.ApproveTimeOff(
            provider_id=provider_id, **{**body.model_dump(), "time_off_id": time_off_id}
        )
        outcome = await scheduling.change_provider(metadata(request, who), command)
        return recorded_outcome(time_off_id, outcome)

    @router.post("/deactivate")
    async def deactivate(request: Request, provider_id: Id, who: Principal = Admins) -> Recorded:
        command = providers.Deactivate(provider_id=provider_id, deactivated_at=scheduling.now())
        outcome = await scheduling.change_provider(metadata(request, who), command)
        return recorded_outcome(provider_id, outcome)

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
