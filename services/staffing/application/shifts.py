"""Rostering use cases: a site's roster settings, and assigning staff to shifts.

Local times (a template's 07:00, a shift's date) are resolved here, in the site's zone, into
the instants the deciders compare; the employee stream is folded here and handed to the
employee-time decider, which decides from it and its own stream alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.staffing.domain import streams
from services.staffing.domain.employment import Employment, employment
from services.staffing.domain.events import StaffingMinimum
from services.staffing.domain.shifts import (
    AssignShift,
    DefineShiftTemplate,
    SetMinimumStaffing,
    SetTimeZone,
    SiteRoster,
    UnassignShift,
    site_roster,
)
from services.staffing.domain.time_off import timesheet
from shared.commands import CommandHandler, Outcome
from shared.domain import Invalid, NotFound, Rejected
from shared.events import Metadata
from shared.usecases import UseCases


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"unknown time zone {name!r}") from exc


def local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant of a local wall time (the earlier one when a clock change repeats it)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class ShiftTimes:
    start: datetime
    end: datetime
    days: tuple[date, ...]  # the local dates it touches


def shift_times(day: date, start: time, end: time, tz: ZoneInfo) -> ShiftTimes:
    """A shift from `start` on `day` to `end`, the next day when `end` is not after `start`."""
    end_day = day if end > start else day + timedelta(days=1)
    last = end_day if end != time(0) else end_day - timedelta(days=1)
    days = tuple(day + timedelta(days=n) for n in range((last - day).days + 1))
    return ShiftTimes(local(day, start, tz), local(end_day, end, tz), days)


class Rostering(UseCases):
    """Roster settings per site and the weekly roster of non-provider staff."""

    def __init__(self, handler: CommandHandler) -> None:
        super().__init__(handler)

    async def employment(self, tenant: str, employee_id: str) -> Employment:
        """The employee as the employee stream says now (not a read model)."""
        return await self.state(streams.employee(tenant, employee_id), employment)

    async def site(self, tenant: str, site_id: str) -> SiteRoster:
        return await self.state(streams.roster_site(tenant, site_id), site_roster)

    async def _site(self, meta: Metadata, command: Any) -> Outcome[Any]:
        stream = streams.roster_site(meta.tenant, command.site_id)
        return await self.decide(stream, site_roster, command, meta, subject=command.site_id)

    async def set_time_zone(self, meta: Metadata, site_id: str, time_zone: str) -> Outcome[Any]:
        zone(time_zone)
        return await self._site(meta, SetTimeZone(site_id=site_id, time_zone=time_zone))

    async def define_template(self, meta: Metadata, command: DefineShiftTemplate) -> Outcome[Any]:
        return await self._site(meta, command)

    async def set_minimum_staffing(
        self, meta: Metadata, site_id: str, minimums: tuple[StaffingMinimum, ...]
    ) -> Outcome[Any]:
        return await self._site(meta, SetMinimumStaffing(site_id=site_id, minimums=minimums))

    async def assign(
        self,
        meta: Metadata,
        *,
        site_id: str,
        shift_id: str,
        employee_id: str,
        day: date,
        template_id: str | None = None,
        start: time | None = None,
        end: time | None = None,
    ) -> Outcome[Any]:
        """Roster the employee on `day` (the site's local date): a template's times, or
        `start`/`end` local times given here."""
        site = await self.site(meta.tenant, site_id)
        if site.time_zone is None:
            raise Rejected(f"site {site_id} has no time zone yet: set it first")
        template_role = None
        if template_id is not None:
            if start is not None or end is not None:
                raise Invalid("give a template or start and end, not both")
            template = site.templates.get(template_id)
            if template is None:
                raise NotFound(f"shift template {template_id} does not exist at site {site_id}")
            if day.weekday() not in template.weekdays:
                raise Invalid(f"shift template {template_id} is not worked on {day:%A}s")
            start, end, template_role = template.start, template.end, template.role
        if start is None or end is None:
            raise Invalid("give a template_id, or a start and an end")
        if start == end:
            raise Invalid("a shift's start and end must differ")
        times = shift_times(day, start, end, zone(site.time_zone))
        command = AssignShift(
            shift_id=shift_id,
            employee_id=employee_id,
            site_id=site_id,
            day=day,
            days=times.days,
            start=times.start,
            end=times.end,
            template_id=template_id,
            template_role=template_role,
            employment=await self.employment(meta.tenant, employee_id),
        )
        stream = streams.employee_time(meta.tenant, employee_id)
        tagged = await self._handler.store.streams_tagged(streams.shift_tag(meta.tenant, shift_id))
        if any(other != stream for other in tagged):
            raise Rejected(f"shift {shift_id} is another employee's")
        return await self.decide(stream, timesheet, command, meta, subject=employee_id)

    async def unassign(self, meta: Metadata, site_id: str, shift_id: str) -> Outcome[Any]:
        found = await self._handler.store.streams_tagged(streams.shift_tag(meta.tenant, shift_id))
        if not found:
            raise NotFound(f"shift {shift_id} does not exist")
        stream = found[-1]
        employee_id = streams.employee_of_time(stream)
        command = UnassignShift(employee_id=employee_id, shift_id=shift_id, site_id=site_id)
        return await self.decide(stream, timesheet, command, meta, subject=employee_id)
