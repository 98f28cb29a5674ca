"""Time off and paid time off (PTO), decided in the employee's time stream beside their shifts.

A request is `requested`, then `approved` or `denied` (by the employee's manager or HR), and
may be `cancelled` by the employee or HR before or after approval; any other step is refused
(409). PTO is a ledger in the same stream: accruals per pay period (`PtoAccrued`, once per
period) and approved PTO requests drawing on them. A PTO request beyond the balance is refused
with 409 (a conflict with the ledger as it stands, which later accruals may lift):
at request time against the balance less the PTO still pending, at approval against the balance.
Approval unassigns the employee's shifts inside the time off, in the same commit, so no shift
ever falls in approved time off and the roster shows the hole as a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from services.staffing.domain.employee_time import EmployeeTime, Request, evolve
from services.staffing.domain.employment import Employment
from services.staffing.domain.events import (
    PtoAccrued,
    PtoPolicySet,
    TimeOffApproved,
    TimeOffCancelled,
    TimeOffDenied,
    TimeOffRequested,
)
from services.staffing.domain.shifts import (
    AssignShift,
    UnassignShift,
    decide_assign,
    decide_unassign,
    unassigned,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

Kind = Literal["pto", "sick", "unpaid", "other"]
MAX_TIME_OFF = timedelta(days=366)
DEFAULT_DAY_HOURS = 8.0  # paid hours per weekday when nothing is rostered in the period


# ----------------------------------------------------------------------------- the PTO rule


@dataclass(frozen=True)
class PtoPolicy:
    """`hours_per_period` x FTE for each pay period of `period_days` from `anchor`. The
    default: biweekly from Monday 1 January 2024, 4.62 h (120 h a year full time), no cap."""

    hours_per_period: float = 4.62
    period_days: int = 14
    anchor: date = date(2024, 1, 1)
    max_balance: float | None = None

    def period_of(self, day: date) -> tuple[date, date]:
        """The pay period holding `day`: its first and last day."""
        n = (day - self.anchor).days // self.period_days
        start = self.anchor + timedelta(days=n * self.period_days)
        return start, start + timedelta(days=self.period_days - 1)

    def completed(self, first_day: date, today: date) -> list[tuple[date, date]]:
        """The periods from the one holding `first_day` that ended before `today`."""
        periods = []
        start, end = self.period_of(first_day)
        while end < today:
            periods.append((start, end))
            start, end = end + timedelta(days=1), end + timedelta(days=self.period_days)
        return periods


class SetPtoPolicy(Command):
    hours_per_period: float
    period_days: int
    anchor: date
    max_balance: float | None = None


def _evolve_policy(state: PtoPolicy, event: DomainEvent) -> PtoPolicy:
    if isinstance(event, PtoPolicySet):
        return PtoPolicy(event.hours_per_period, event.period_days, event.anchor, event.max_balance)
    return state


def _decide_policy(state: PtoPolicy, command: SetPtoPolicy) -> list[DomainEvent]:
    if not 0 <= command.hours_per_period <= 80:
        raise Invalid("hours_per_period must be between 0 and 80")
    if not 7 <= command.period_days <= 31:
        raise Invalid("a pay period lasts 7 to 31 days")
    if command.max_balance is not None and command.max_balance < 0:
        raise Invalid("max_balance must not be negative")
    wanted = PtoPolicy(
        command.hours_per_period, command.period_days, command.anchor, command.max_balance
    )
    if wanted == state:
        return []
    return [PtoPolicySet(**command.model_dump())]


pto_policy: Decider[PtoPolicy, SetPtoPolicy] = Decider(PtoPolicy(), _evolve_policy, _decide_policy)


# ----------------------------------------------------------------------------- commands


class RequestTimeOff(Command):
    request_id: str
    employee_id: str
    kind: Kind
    start: datetime
    end: datetime
    hours: float | None = None  # None: the rostered hours in the period (8 a weekday if none)
    note: str = ""
    employment: Employment


class ApproveTimeOff(Command):
    request_id: str
    employee_id: str
    decided_by: str


class DenyTimeOff(Command):
    request_id: str
    employee_id: str
    decided_by: str
    reason: str


class CancelTimeOff(Command):
    request_id: str
    employee_id: str


class AccruePto(Command):
    """Credit every pay period that ended before `today` and is not credited yet."""

    employee_id: str
    today: date
    policy_hours: float
    policy_period_days: int
    policy_anchor: date
    policy_max_balance: float | None = None
    employment: Employment

    @property
    def policy(self) -> PtoPolicy:
        return PtoPolicy(
            self.policy_hours, self.policy_period_days, self.policy_anchor, self.policy_max_balance
        )


TimesheetCommand = (
    AssignShift
    | UnassignShift
    | RequestTimeOff
    | ApproveTimeOff
    | DenyTimeOff
    | CancelTimeOff
    | AccruePto
)


def default_hours(state: EmployeeTime, start: datetime, end: datetime) -> float:
    """The rostered hours inside the period; with none rostered, up to 8 h for each weekday
    (Monday to Friday, in the period's own UTC offset) it covers."""
    rostered = sum(
        (min(s.end, end) - max(s.start, start)).total_seconds() / 3600
        for s in state.shifts_within(start, end)
    )
    if rostered > 0:
        return round(rostered, 2)
    hours, day = 0.0, start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        following = day + timedelta(days=1)
        if day.weekday() < 5:
            covered = (min(end, following) - max(start, day)).total_seconds() / 3600
            hours += min(DEFAULT_DAY_HOURS, covered)
        day = following
    return round(hours, 2)


def _request(state: EmployeeTime, command: RequestTimeOff) -> list[DomainEvent]:
    who = command.employment
    if not who.exists:
        raise NotFound(f"employee {command.employee_id} does not exist")
    if command.end <= command.start:
        raise Invalid("time off must end after it starts")
    if command.end - command.start > MAX_TIME_OFF:
        raise Invalid("one request covers a year at most")
    existing = state.requests.get(command.request_id)
    if existing is not None:
        if (existing.kind, existing.start, existing.end) == (
            command.kind,
            command.start,
            command.end,
        ):
            return []  # the same request again (a retry)
        raise Rejected(f"time-off request {command.request_id} already exists")
    first, last = command.start.date(), (command.end - timedelta(microseconds=1)).date()
    if not (who.employed_on(first) and who.employed_on(last)):
        raise Rejected(f"employee {command.employee_id} is not employed from {first} to {last}")
    for other in state.requests.values():
        if other.open and other.overlaps(command.start, command.end):
            raise Rejected(f"time-off request {other.request_id} ({other.status}) overlaps it")
    length = (command.end - command.start).total_seconds() / 3600
    if command.kind == "unpaid":
        if command.hours:
            raise Invalid("unpaid time off draws no paid hours: leave hours out or 0")
        hours = 0.0
    elif command.hours is None:
        hours = default_hours(state, command.start, command.end)
    else:
        if not 0 <= command.hours <= length:
            raise Invalid(f"hours must be between 0 and the period's {round(length, 2)} h")
        hours = round(command.hours, 2)
    if command.kind == "pto":
        pending = state.pto("requested")
        free = round(state.available - pending, 2)
        if hours > free:
            raise Rejected(
                f"PTO balance {state.available} h, {pending} h of it already requested, "
                f"does not cover {hours} h"
            )
    return [
        TimeOffRequested(
            request_id=command.request_id,
            employee_id=command.employee_id,
            kind=command.kind,
            start=command.start,
            end=command.end,
            hours=hours,
            note=command.note,
        )
    ]


def _pending(state: EmployeeTime, request_id: str, step: str) -> Request:
    request = state.requests.get(request_id)
    if request is None:
        raise NotFound(f"time-off request {request_id} does not exist")
    if request.status != "requested":
        raise Rejected(f"time-off request {request_id} is {request.status}: cannot {step} it")
    return request


def _approve(state: EmployeeTime, command: ApproveTimeOff) -> list[DomainEvent]:
    request = _pending(state, command.request_id, "approve")
    if request.kind == "pto" and request.hours > state.available:
        raise Rejected(
            f"PTO balance {state.available} h does not cover the request's {request.hours} h"
        )
    approved: list[DomainEvent] = [
        TimeOffApproved(
            request_id=request.request_id,
            employee_id=command.employee_id,
            start=request.start,
            end=request.end,
            decided_by=command.decided_by,
        )
    ]
    freed = state.shifts_within(request.start, request.end)
    return approved + [unassigned(command.employee_id, s.shift_id, state) for s in freed]


def _deny(state: EmployeeTime, command: DenyTimeOff) -> list[DomainEvent]:
    _pending(state, command.request_id, "deny")
    return [
        TimeOffDenied(
            request_id=command.request_id,
            employee_id=command.employee_id,
            decided_by=command.decided_by,
            reason=command.reason,
        )
    ]


def _cancel(state: EmployeeTime, command: CancelTimeOff) -> list[DomainEvent]:
    request = state.requests.get(command.request_id)
    if request is None:
        raise NotFound(f"time-off request {command.request_id} does not exist")
    if not request.open:
        raise Rejected(f"time-off request {command.request_id} is {request.status}: cannot cancel")
    return [
        TimeOffCancelled(
            request_id=request.request_id,
            employee_id=command.employee_id,
            start=request.start,
            end=request.end,
        )
    ]


def _accrue(state: EmployeeTime, command: AccruePto) -> list[DomainEvent]:
    who, policy = command.employment, command.policy
    if not who.exists:
        raise NotFound(f"employee {command.employee_id} does not exist")
    balance = state.available
    events: list[DomainEvent] = []
    for start, end in policy.completed(who.spells[0][0], command.today):
        if start in state.accruals or not who.employed_on(end):
            continue
        fte = who.fte_on(end)
        hours = round(policy.hours_per_period * fte, 2)
        if policy.max_balance is not None:
            hours = round(max(0.0, min(hours, policy.max_balance - balance)), 2)
        balance = round(balance + hours, 2)
        events.append(
            PtoAccrued(
                employee_id=command.employee_id,
                period_start=start,
                period_end=end,
                hours=hours,
                fte=fte,
            )
        )
    return events


def _decide(state: EmployeeTime, command: TimesheetCommand) -> list[DomainEvent]:
    if isinstance(command, AssignShift):
        return decide_assign(state, command)
    if isinstance(command, UnassignShift):
        return decide_unassign(state, command)
    if isinstance(command, RequestTimeOff):
        return _request(state, command)
    if isinstance(command, ApproveTimeOff):
        return _approve(state, command)
    if isinstance(command, DenyTimeOff):
        return _deny(state, command)
    if isinstance(command, CancelTimeOff):
        return _cancel(state, command)
    return _accrue(state, command)


timesheet: Decider[EmployeeTime, TimesheetCommand] = Decider(EmployeeTime(), evolve, _decide)
