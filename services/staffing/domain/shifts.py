"""Rostering non-provider staff: a site's roster settings (time zone, shift templates, minimum
staffing) in one stream per site, and shifts assigned to an employee, decided in the employee's
time stream: one person never has two overlapping shifts, at any sites, nor a shift during
approved time off, on leave, before hire or after termination.

Providers are booked by scheduling's availability: rostering refuses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

from services.staffing.domain.employee_time import EmployeeTime
from services.staffing.domain.employment import Employment
from services.staffing.domain.events import (
    MinimumStaffingSet,
    ShiftAssigned,
    ShiftTemplateDefined,
    ShiftUnassigned,
    SiteTimeZoneSet,
    StaffingMinimum,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

# A shift longer than this is a typing error, not a shift.
MAX_SHIFT = timedelta(hours=24)


# ----------------------------------------------------------------------------- a site's settings


@dataclass(frozen=True)
class Template:
    template_id: str
    name: str
    start: time
    end: time
    weekdays: tuple[int, ...]
    role: str | None


def _no_templates() -> Mapping[str, Template]:
    return MappingProxyType({})


@dataclass(frozen=True)
class SiteRoster:
    site_id: str = ""
    time_zone: str | None = None
    templates: Mapping[str, Template] = field(default_factory=_no_templates)
    minimums: tuple[StaffingMinimum, ...] = ()


class SetTimeZone(Command):
    site_id: str
    time_zone: str  # checked to be a known zone by the caller (the domain reads no tz files)


class DefineShiftTemplate(Command):
    site_id: str
    template_id: str
    name: str
    start: time
    end: time
    weekdays: tuple[int, ...]
    role: str | None = None


class SetMinimumStaffing(Command):
    site_id: str
    minimums: tuple[StaffingMinimum, ...]


SiteCommand = SetTimeZone | DefineShiftTemplate | SetMinimumStaffing


def _evolve_site(state: SiteRoster, event: DomainEvent) -> SiteRoster:
    if isinstance(event, SiteTimeZoneSet):
        return replace(state, site_id=event.site_id, time_zone=event.time_zone)
    if isinstance(event, ShiftTemplateDefined):
        template = Template(
            event.template_id, event.name, event.start, event.end, event.weekdays, event.role
        )
        templates = MappingProxyType({**state.templates, event.template_id: template})
        return replace(state, site_id=event.site_id, templates=templates)
    if isinstance(event, MinimumStaffingSet):
        return replace(state, site_id=event.site_id, minimums=event.minimums)
    return state


def _decide_site(state: SiteRoster, command: SiteCommand) -> list[DomainEvent]:
    if isinstance(command, SetTimeZone):
        if state.time_zone == command.time_zone:
            return []
        return [SiteTimeZoneSet(site_id=command.site_id, time_zone=command.time_zone)]
    if state.time_zone is None:
        raise Rejected(f"site {command.site_id} has no time zone yet: set it first")
    if isinstance(command, DefineShiftTemplate):
        weekdays = tuple(sorted(set(command.weekdays)))
        if not weekdays or any(not 0 <= d <= 6 for d in weekdays):
            raise Invalid("weekdays must be one or more of 0 (Monday) to 6 (Sunday)")
        if command.start == command.end:
            raise Invalid("a shift template's start and end must differ")
        return [
            ShiftTemplateDefined(**{**command.model_dump(), "weekdays": weekdays}),
        ]
    seen: set[tuple[int, int, str | None]] = set()
    for rule in command.minimums:
        if not (0 <= rule.weekday <= 6 and 0 <= rule.hour <= 23 and rule.headcount >= 0):
            raise Invalid("a minimum needs weekday 0-6, hour 0-23 and a headcount of 0 or more")
        key = (rule.weekday, rule.hour, rule.role)
        if key in seen:
            raise Invalid(f"two minimums for weekday {rule.weekday}, hour {rule.hour}")
        seen.add(key)
    order = sorted(command.minimums, key=lambda r: (r.weekday, r.hour, r.role or ""))
    return [MinimumStaffingSet(site_id=command.site_id, minimums=tuple(order))]


site_roster: Decider[SiteRoster, SiteCommand] = Decider(SiteRoster(), _evolve_site, _decide_site)


# ----------------------------------------------------------------------------- shifts


class AssignShift(Command):
    """Roster the employee at a site from `start` to `end` (aware; the caller resolved a
    template's local times in the site's zone). `day` is the site's local date of the start;
    `days` every local date the shift touches (for leave and employment checks)."""

    shift_id: str
    employee_id: str
    site_id: str
    day: date
    days: tuple[date, ...]
    start: datetime
    end: datetime
    template_id: str | None = None
    template_role: str | None = None
    employment: Employment


class UnassignShift(Command):
    employee_id: str
    shift_id: str
    site_id: str | None = None  # set: the shift must be at this site


def decide_assign(state: EmployeeTime, command: AssignShift) -> list[DomainEvent]:
    who = command.employment
    if not who.exists:
        raise NotFound(f"employee {command.employee_id} does not exist")
    if who.is_provider:
        raise Invalid(
            f"employee {command.employee_id} is a provider ({who.role}): providers are "
            "scheduled by their availability, not rostered"
        )
    if command.site_id not in who.site_ids:
        raise Invalid(f"employee {command.employee_id} does not work at site {command.site_id}")
    if command.template_role is not None and command.template_role != who.role:
        raise Invalid(f"the shift is for role {command.template_role}, not {who.role}")
    if command.end <= command.start:
        raise Invalid("a shift must end after it starts")
    if command.end - command.start > MAX_SHIFT:
        raise Invalid("a shift lasts 24 hours at most")
    if command.shift_id in state.shift_ids:
        existing = state.shifts.get(command.shift_id)
        if existing is not None and (existing.start, existing.end, existing.site_id) == (
            command.start,
            command.end,
            command.site_id,
        ):
            return []  # the same assignment again (a retry)
        raise Rejected(f"shift {command.shift_id} already exists")
    for day in command.days:
        if not who.employed_on(day):
            raise Rejected(f"employee {command.employee_id} is not employed on {day}")
        if who.on_leave(day):
            raise Rejected(f"employee {command.employee_id} is on leave on {day}")
    clash = state.shifts_within(command.start, command.end)
    if clash:
        other = clash[0]
        raise Rejected(
            f"employee {command.employee_id} already has shift {other.shift_id} at site "
            f"{other.site_id} from {other.start.isoformat()} to {other.end.isoformat()}"
        )
    off = state.approved_off(command.start, command.end)
    if off is not None:
        raise Rejected(
            f"employee {command.employee_id} has approved time off {off.request_id} then"
        )
    return [
        ShiftAssigned(
            shift_id=command.shift_id,
            employee_id=command.employee_id,
            site_id=command.site_id,
            day=command.day,
            start=command.start,
            end=command.end,
            role=who.role,
            template_id=command.template_id,
        )
    ]


def unassigned(employee_id: str, shift_id: str, state: EmployeeTime) -> ShiftUnassigned:
    shift = state.shifts[shift_id]
    return ShiftUnassigned(
        shift_id=shift.shift_id,
        employee_id=employee_id,
        site_id=shift.site_id,
        day=shift.day,
        start=shift.start,
        end=shift.end,
    )


def decide_unassign(state: EmployeeTime, command: UnassignShift) -> list[DomainEvent]:
    shift = state.shifts.get(command.shift_id)
    if shift is None:
        if command.shift_id in state.shift_ids:
            raise Rejected(f"shift {command.shift_id} is already unassigned")
        raise NotFound(f"shift {command.shift_id} does not exist")
    if command.site_id is not None and shift.site_id != command.site_id:
        raise NotFound(f"shift {command.shift_id} is not at site {command.site_id}")
    return [unassigned(command.employee_id, command.shift_id, state)]
