"""One employee's time, folded from their employee-time stream: the shifts they are rostered
on, their time-off requests and their PTO ledger (accruals; approved PTO draws on it).

`domain/shifts.py` and `domain/time_off.py` decide on this state; `time_off.timesheet` is the
stream's decider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Literal

from services.staffing.domain.events import (
    PtoAccrued,
    ShiftAssigned,
    ShiftUnassigned,
    TimeOffApproved,
    TimeOffCancelled,
    TimeOffDenied,
    TimeOffRequested,
)
from shared.events import DomainEvent

Status = Literal["requested", "approved", "denied", "cancelled"]


@dataclass(frozen=True)
class Shift:
    shift_id: str
    site_id: str
    day: date
    start: datetime
    end: datetime
    role: str
    template_id: str | None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Half-open: a shift ending at 16:00 and one starting at 16:00 do not overlap."""
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Request:
    request_id: str
    kind: str
    start: datetime
    end: datetime
    hours: float
    status: Status

    @property
    def open(self) -> bool:
        """Requested or approved: it still claims the time (and, for PTO, the hours)."""
        return self.status in ("requested", "approved")

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def _frozen() -> Mapping[str, object]:
    return MappingProxyType({})


@dataclass(frozen=True)
class EmployeeTime:
    shifts: Mapping[str, Shift] = field(default_factory=_frozen)  # type: ignore[arg-type]
    requests: Mapping[str, Request] = field(default_factory=_frozen)  # type: ignore[arg-type]
    accruals: Mapping[date, PtoAccrued] = field(default_factory=_frozen)  # type: ignore[arg-type]
    # Every shift id ever used, so an unassigned shift's id is not reused.
    shift_ids: frozenset[str] = frozenset()

    @property
    def accrued(self) -> float:
        return round(sum(a.hours for a in self.accruals.values()), 2)

    def pto(self, *statuses: Status) -> float:
        """PTO hours of the requests in these statuses."""
        return round(
            sum(
                r.hours for r in self.requests.values() if r.kind == "pto" and r.status in statuses
            ),
            2,
        )

    @property
    def available(self) -> float:
        """Accrued less approved PTO (cancelled PTO gives its hours back)."""
        return round(self.accrued - self.pto("approved"), 2)

    def approved_off(self, start: datetime, end: datetime) -> Request | None:
        """An approved time off overlapping the period."""
        for request in self.requests.values():
            if request.status == "approved" and request.overlaps(start, end):
                return request
        return None

    def shifts_within(self, start: datetime, end: datetime) -> list[Shift]:
        return sorted(
            (s for s in self.shifts.values() if s.overlaps(start, end)), key=lambda s: s.start
        )


def evolve(state: EmployeeTime, event: DomainEvent) -> EmployeeTime:
    if isinstance(event, ShiftAssigned):
        shift = Shift(
            event.shift_id,
            event.site_id,
            event.day,
            event.start,
            event.end,
            event.role,
            event.template_id,
        )
        return replace(
            state,
            shifts=MappingProxyType({**state.shifts, shift.shift_id: shift}),
            shift_ids=state.shift_ids | {shift.shift_id},
        )
    if isinstance(event, ShiftUnassigned):
        shifts = {k: v for k, v in state.shifts.items() if k != event.shift_id}
        return replace(state, shifts=MappingProxyType(shifts))
    if isinstance(event, TimeOffRequested):
        request = Request(
            event.request_id, event.kind, event.start, event.end, event.hours, "requested"
        )
        return replace(
            state, requests=MappingProxyType({**state.requests, event.request_id: request})
        )
    if isinstance(event, TimeOffApproved | TimeOffDenied | TimeOffCancelled):
        status: Status = (
            "approved"
            if isinstance(event, TimeOffApproved)
            else "denied"
            if isinstance(event, TimeOffDenied)
            else "cancelled"
        )
        found = state.requests.get(event.request_id)
        if found is None:
            return state
        changed = replace(found, status=status)
        return replace(
            state, requests=MappingProxyType({**state.requests, event.request_id: changed})
        )
    if isinstance(event, PtoAccrued):
        return replace(
            state, accruals=MappingProxyType({**state.accruals, event.period_start: event})
        )
    return state
