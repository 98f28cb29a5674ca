"""Rostering over HTTP: a site's roster settings (admin), the weekly roster (the site's
managers and HR) and the roster with its coverage gaps (the site's managers, staff and HR)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, TypeVar

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import AfterValidator, AwareDatetime, Field

from services.staffing.application.shifts import Rostering
from services.staffing.domain import streams
from services.staffing.domain.events import Role, StaffingMinimum
from services.staffing.domain.shifts import DefineShiftTemplate
from services.staffing.projections import roster as roster_view
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Name, Recorded, check_site, read_after, recorded
from shared.readmodels import ReadModels

Admins = policy(changes_state=True)  # configuration: admin only
Rosterers = policy("manager", "hr", site_scoped=True, changes_state=True)
RosterReaders = policy("manager", "hr", "staff", site_scoped=True)

Week = Annotated[str, Field(pattern=r"^\d{4}-W\d{2}$")]

# The span of years staffing's dates may name: outside it a slip or a probe, and near Python's
# edges (years 1 and 9999) a day added or a change of zone overflows.
FIRST_DAY, LAST_DAY = date(1800, 1, 1), date(2199, 12, 31)
D = TypeVar("D", bound=date)


def _in_calendar(value: D) -> D:
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


# Every date and date-time staffing's shift and time-off routes take: 422 naming the field.
Day = Annotated[date, AfterValidator(_in_calendar)]
Moment = Annotated[AwareDatetime, AfterValidator(_in_calendar)]


class SiteSettingsIn(Body):
    time_zone: Name


class TemplateIn(Body):
    template_id: Id | None = None
    name: Name
    start: time
    end: time
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    role: Role | None = None


class MinimumIn(Body):
    weekday: int = Field(ge=0, le=6)
    hour: int = Field(ge=0, le=23)
    headcount: int = Field(ge=0, le=1000)
    role: Role | None = None


class MinimumStaffingIn(Body):
    minimums: list[MinimumIn] = Field(max_length=7 * 24 * 10)


class AssignmentIn(Body):
    """A template's shift on `date`, or `start` to `end` local time (an `end` not after `start`
    ends the next day)."""

    shift_id: Id | None = None
    employee_id: Id
    date: Day
    template_id: Id | None = None
    start: time | None = None
    end: time | None = None


def build_router(rostering: Rostering, read_models: ReadModels, wait_seconds: float) -> APIRouter:
    router = APIRouter(prefix="/staffing/sites/{site_id}", tags=["rosters"])

    @router.put("")
    async def set_site(
        request: Request, site_id: Id, body: SiteSettingsIn, who: Principal = Admins
    ) -> Recorded:
        """The site's time zone, in which its shift templates and minimum staffing are read."""
        outcome = await rostering.set_time_zone(metadata(request, who), site_id, body.time_zone)
        return recorded(site_id, outcome)

    @router.post("/shift-templates", status_code=201)
    async def define_template(
        request: Request, site_id: Id, body: TemplateIn, who: Principal = Admins
    ) -> Recorded:
        template_id = body.template_id or rostering.new_id()
        command = DefineShiftTemplate(
            site_id=site_id,
            template_id=template_id,
            name=body.name,
            start=body.start,
            end=body.end,
            weekdays=tuple(body.weekdays),
            role=body.role,
        )
        outcome = await rostering.define_template(metadata(request, who), command)
        return recorded(template_id, outcome)

    @router.put("/minimum-staffing")
    async def set_minimum_staffing(
        request: Request, site_id: Id, body: MinimumStaffingIn, who: Principal = Admins
    ) -> Recorded:
        """Replaces the site's whole minimum staffing (per weekday, local hour and role)."""
        minimums = tuple(StaffingMinimum(**m.model_dump()) for m in body.minimums)
        outcome = await rostering.set_minimum_staffing(metadata(request, who), site_id, minimums)
        return recorded(site_id, outcome)

    @router.post("/roster", status_code=201)
    async def assign(
        request: Request, site_id: Id, body: AssignmentIn, who: Principal = Rosterers
    ) -> Recorded:
        """Roster a non-provider employee of the site: 409 when it overlaps another of their
        shifts (at any site), approved time off or leave, or falls outside employment."""
        check_site(who, site_id)
        shift_id = body.shift_id or rostering.new_id()
        outcome = await rostering.assign(
            metadata(request, who),
            site_id=site_id,
            shift_id=shift_id,
            employee_id=body.employee_id,
            day=body.date,
            template_id=body.template_id,
            start=body.start,
            end=body.end,
        )
        return recorded(shift_id, outcome)

    @router.delete("/roster/{shift_id}")
    async def unassign(
        request: Request, site_id: Id, shift_id: Id, who: Principal = Rosterers
    ) -> Recorded:
        check_site(who, site_id)
        outcome = await rostering.unassign(metadata(request, who), site_id, shift_id)
        return recorded(shift_id, outcome)

    @router.get("/roster")
    async def roster(
        site_id: Id,
        week: Week,
        who: Principal = RosterReaders,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> Response:
        """The site's roster for an ISO week (`2026-W49`): shifts per local day, and the gaps,
        the local hours with fewer people rostered for the whole hour than the minimum.
        `after_stream`/`after_version` (an assignment's or a setting's `stream` and
        `stream_version` for this site and week) wait for that change."""
        check_site(who, site_id)
        try:
            roster_view.monday_of(week)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        if after_version is not None:
            await _wait(who, site_id, week, after_stream, after_version)
        found = await roster_view.roster_week(read_models, who.tenant, site_id, week)
        # A week of a busy site is a few hundred shifts: serialised at once, not walked by
        # FastAPI's encoder (most of the request's time otherwise, bench/rosters.py).
        return Response(orjson.dumps(found), media_type="application/json")

    async def _wait(
        who: Principal, site_id: str, week: str, stream: str | None, version: int
    ) -> None:
        settings = streams.roster_site(who.tenant, site_id)
        if stream == settings:
            collection, doc_id = roster_view.SITES, roster_view.site_doc_id(who.tenant, site_id)
        elif stream is not None and stream.startswith(streams.employee_time(who.tenant, "")):
            collection = roster_view.WEEKS
            doc_id = roster_view.week_doc_id(who.tenant, site_id, week)
        else:
            raise HTTPException(400, "after_version needs the after_stream it belongs to")
        await read_after(
            read_models,
            roster_view.PROJECTION,
            collection,
            doc_id,
            stream,
            version,
            wait_seconds,
            rostering.stream_version,
        )

    return router
