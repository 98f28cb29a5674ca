"""Given these events, when this command, then these events: an employee's shifts, time off
and PTO ledger (one stream), and a site's roster settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.staffing.domain.employment import Employment, employment
from services.staffing.domain.events import (
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    LeaveEnded,
    LeaveStarted,
    PtoAccrued,
    ShiftAssigned,
    ShiftTemplateDefined,
    ShiftUnassigned,
    SiteTimeZoneSet,
    StaffingMinimum,
    TimeOffApproved,
    TimeOffCancelled,
    TimeOffDenied,
    TimeOffRequested,
)
from services.staffing.domain.shifts import (
    AssignShift,
    DefineShiftTemplate,
    SetMinimumStaffing,
    SetTimeZone,
    UnassignShift,
    site_roster,
)
from services.staffing.domain.time_off import (
    AccruePto,
    ApproveTimeOff,
    CancelTimeOff,
    DenyTimeOff,
    PtoPolicy,
    RequestTimeOff,
    TimesheetCommand,
    timesheet,
)
from services.staffing.projections.roster import gaps
from shared.domain import DomainError, Invalid, NotFound, Rejected
from shared.events import DomainEvent

HIRED = EmployeeHired(
    employee_id="e1",
    name="Dana",
    title="Medical assistant",
    role="medical_assistant",
    site_ids=("north", "south"),
    fte=1.0,
    manager_id="m1",
    hired_on=date(2026, 1, 12),  # a pay period's first day
)
DANA = employment.fold([HIRED])


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def assign(
    start: datetime,
    end: datetime,
    shift_id: str = "s1",
    site_id: str = "north",
    who: Employment = DANA,
    template_role: str | None = None,
) -> AssignShift:
    days = tuple(
        sorted(
            {start.date() + timedelta(days=n) for n in range((end.date() - start.date()).days + 1)}
        )
    )
    return AssignShift(
        shift_id=shift_id,
        employee_id="e1",
        site_id=site_id,
        day=start.date(),
        days=days,
        start=start,
        end=end,
        template_role=template_role,
        employment=who,
    )


def assigned(command: AssignShift) -> ShiftAssigned:
    return ShiftAssigned(
        shift_id=command.shift_id,
        employee_id="e1",
        site_id=command.site_id,
        day=command.day,
        start=command.start,
        end=command.end,
        role="medical_assistant",
    )


def decide(given: Sequence[DomainEvent], command: TimesheetCommand) -> list[DomainEvent]:
    return list(timesheet.decide(timesheet.fold(given), command))


def accrued(hours: float, period_start: date = date(2026, 11, 2)) -> PtoAccrued:
    return PtoAccrued(
        employee_id="e1",
        period_start=period_start,
        period_end=period_start + timedelta(days=13),
        hours=hours,
        fte=1.0,
    )


def request(
    start: datetime, end: datetime, kind: str = "pto", hours: float | None = None, rid: str = "r1"
) -> RequestTimeOff:
    return RequestTimeOff(
        request_id=rid,
        employee_id="e1",
        kind=kind,
        start=start,
        end=end,
        hours=hours,
        employment=DANA,
    )


# ----------------------------------------------------------------------------- shifts


def test_a_shift_is_assigned() -> None:
    command = assign(at(1, 8), at(1, 16))
    assert decide([], command) == [assigned(command)]


@pytest.mark.parametrize(
    ("start", "end", "overlaps"),
    [
        (at(1, 16), at(1, 20), False),  # starts when the first ends
        (at(1, 4), at(1, 8), False),  # ends when the first starts
        (at(1, 15, 59), at(1, 20), True),
        (at(1, 10), at(1, 12), True),  # inside
        (at(1, 6), at(1, 18), True),  # around
    ],
)
def test_overlap_is_half_open(start: datetime, end: datetime, overlaps: bool) -> None:
    first = assigned(assign(at(1, 8), at(1, 16)))
    command = assign(start, end, shift_id="s2", site_id="south")  # another site: still one person
    if overlaps:
        with pytest.raises(Rejected, match="already has shift s1 at site north"):
            decide([first], command)
    else:
        assert decide([first], command) == [assigned(command)]


def test_a_night_shift_across_midnight_overlaps_the_next_morning() -> None:
    night = assigned(assign(at(1, 22), at(2, 6)))
    with pytest.raises(Rejected, match="already has shift s1"):
        decide([night], assign(at(2, 5), at(2, 13), shift_id="s2"))
    morning = assign(at(2, 6), at(2, 14), shift_id="s2")
    assert decide([night], morning) == [assigned(morning)]


def test_an_unassigned_shift_frees_the_time_and_its_id_is_not_reused() -> None:
    first = assign(at(1, 8), at(1, 16))
    given = [
        assigned(first),
        ShiftUnassigned(
            shift_id="s1",
            employee_id="e1",
            site_id="north",
            day=date(2026, 12, 1),
            start=at(1, 8),
            end=at(1, 16),
        ),
    ]
    again = assign(at(1, 8), at(1, 16), shift_id="s2")
    assert decide(given, again) == [assigned(again)]
    with pytest.raises(Rejected, match="already exists"):
        decide(given, assign(at(3, 8), at(3, 16)))
    with pytest.raises(Rejected, match="already unassigned"):
        decide(given, UnassignShift(employee_id="e1", shift_id="s1"))


def test_the_same_assignment_again_records_nothing() -> None:
    command = assign(at(1, 8), at(1, 16))
    assert decide([assigned(command)], command) == []


def test_unassign() -> None:
    command = assign(at(1, 8), at(1, 16))
    assert decide([assigned(command)], UnassignShift(employee_id="e1", shift_id="s1")) == [
        ShiftUnassigned(
            shift_id="s1",
            employee_id="e1",
            site_id="north",
            day=date(2026, 12, 1),
            start=at(1, 8),
            end=at(1, 16),
        )
    ]
    with pytest.raises(NotFound):
        decide([assigned(command)], UnassignShift(employee_id="e1", shift_id="s1", site_id="south"))
    with pytest.raises(NotFound):
        decide([], UnassignShift(employee_id="e1", shift_id="nope"))


def fold_employee(*events: DomainEvent) -> Employment:
    return employment.fold([HIRED, *events])


@pytest.mark.parametrize(
    ("who", "error", "reason"),
    [
        (Employment(), NotFound, "does not exist"),
        (
            fold_employee(
                JobChanged(
                    employee_id="e1",
                    title="Physician",
                    role="physician",
                    site_ids=("north",),
                    fte=1.0,
                    effective_on=date(2026, 2, 1),
                )
            ),
            Invalid,
            "is a provider",
        ),
        (
            fold_employee(
                EmployeeTerminated(employee_id="e1", last_day=date(2026, 11, 30), reason="left")
            ),
            Rejected,
            "not employed on 2026-12-01",
        ),
        (
            fold_employee(
                LeaveStarted(
                    employee_id="e1", leave_id="l1", reason="medical", starts_on=date(2026, 11, 1)
                )
            ),
            Rejected,
            "on leave",
        ),
    ],
)
def test_who_cannot_be_rostered(who: Employment, error: type[DomainError], reason: str) -> None:
    with pytest.raises(error, match=reason):
        decide([], assign(at(1, 8), at(1, 16), who=who))


def test_back_from_leave_and_rehired_can_be_rostered() -> None:
    back = fold_employee(
        LeaveStarted(
            employee_id="e1", leave_id="l1", reason="medical", starts_on=date(2026, 11, 1)
        ),
        LeaveEnded(employee_id="e1", leave_id="l1", returned_on=date(2026, 12, 1)),
    )
    assert decide([], assign(at(1, 8), at(1, 16), who=back))
    rehired = fold_employee(
        EmployeeTerminated(employee_id="e1", last_day=date(2026, 6, 30), reason="left"),
        HIRED.model_copy(update={"hired_on": date(2026, 11, 1), "rehired": True}),
    )
    assert decide([], assign(at(1, 8), at(1, 16), who=rehired))
    with pytest.raises(Rejected, match="not employed"):
        decide([], assign(at(1, 8, month=8), at(1, 16, month=8), who=rehired))


def test_bad_shifts_are_invalid() -> None:
    with pytest.raises(Invalid, match="end after it starts"):
        decide([], assign(at(1, 8), at(1, 8)))
    with pytest.raises(Invalid, match="24 hours"):
        decide([], assign(at(1, 8), at(2, 9)))
    with pytest.raises(Invalid, match="does not work at site"):
        decide([], assign(at(1, 8), at(1, 16), site_id="east"))
    with pytest.raises(Invalid, match="for role nurse"):
        decide([], assign(at(1, 8), at(1, 16), template_role="nurse"))


def test_no_shift_during_approved_time_off() -> None:
    given = [
        accrued(40),
        TimeOffRequested(
            request_id="r1", employee_id="e1", kind="pto", start=at(1, 0), end=at(2, 0), hours=8
        ),
        TimeOffApproved(
            request_id="r1", employee_id="e1", start=at(1, 0), end=at(2, 0), decided_by="m1"
        ),
    ]
    with pytest.raises(Rejected, match="approved time off r1"):
        decide(given, assign(at(1, 8), at(1, 16)))
    cancelled = TimeOffCancelled(request_id="r1", employee_id="e1", start=at(1, 0), end=at(2, 0))
    assert decide([*given, cancelled], assign(at(1, 8), at(1, 16)))


# ----------------------------------------------------------------------------- time off


def test_time_off_lifecycle() -> None:
    asked = request(at(7, 0), at(8, 0), hours=8)
    requested = decide([accrued(9.24)], asked)
    assert requested == [
        TimeOffRequested(
            request_id="r1", employee_id="e1", kind="pto", start=at(7, 0), end=at(8, 0), hours=8
        )
    ]
    given = [accrued(9.24), *requested]
    approve = ApproveTimeOff(request_id="r1", employee_id="e1", decided_by="m1")
    approved = decide(given, approve)
    assert approved == [
        TimeOffApproved(
            request_id="r1", employee_id="e1", start=at(7, 0), end=at(8, 0), decided_by="m1"
        )
    ]
    with pytest.raises(Rejected, match="is approved: cannot approve"):
        decide([*given, *approved], approve)
    with pytest.raises(Rejected, match="is approved: cannot deny"):
        decide([*given, *approved], DenyTimeOff(**approve.model_dump(), reason="no"))
    assert timesheet.fold([*given, *approved]).available == 1.24
    cancelled = decide([*given, *approved], CancelTimeOff(request_id="r1", employee_id="e1"))
    assert cancelled == [
        TimeOffCancelled(request_id="r1", employee_id="e1", start=at(7, 0), end=at(8, 0))
    ]
    assert timesheet.fold([*given, *approved, *cancelled]).available == 9.24
    with pytest.raises(Rejected, match="is cancelled: cannot cancel"):
        decide([*given, *approved, *cancelled], CancelTimeOff(request_id="r1", employee_id="e1"))


def test_a_denied_request_cannot_be_approved() -> None:
    given = [
        TimeOffRequested(
            request_id="r1", employee_id="e1", kind="sick", start=at(7, 0), end=at(8, 0), hours=8
        ),
        TimeOffDenied(request_id="r1", employee_id="e1", decided_by="m1", reason="busy"),
    ]
    with pytest.raises(Rejected, match="is denied: cannot approve"):
        decide(given, ApproveTimeOff(request_id="r1", employee_id="e1", decided_by="m1"))
    with pytest.raises(NotFound):
        decide(given, ApproveTimeOff(request_id="r9", employee_id="e1", decided_by="m1"))


def test_pto_beyond_the_balance_is_refused_at_request_and_at_approval() -> None:
    with pytest.raises(Rejected, match="does not cover 8.0 h"):
        decide([accrued(4.62)], request(at(7, 0), at(8, 0), hours=8))
    # Two requests that each fit, but not together: the second is refused at request time.
    first = decide([accrued(9.24)], request(at(7, 0), at(8, 0), hours=8))
    with pytest.raises(Rejected, match="8.0 h of it already requested"):
        decide([accrued(9.24), *first], request(at(9, 0), at(10, 0), hours=8, rid="r2"))
    # Sick and unpaid time do not draw on PTO.
    assert decide([], request(at(9, 0), at(10, 0), kind="sick", hours=8, rid="r2"))
    unpaid = decide([], request(at(9, 0), at(10, 0), kind="unpaid", rid="r2"))
    assert isinstance(unpaid[0], TimeOffRequested)
    assert unpaid[0].hours == 0
    # The balance fell between request and approval (another approved first).
    given = [
        accrued(9.24),
        *first,
        TimeOffRequested(
            request_id="r0", employee_id="e1", kind="pto", start=at(1, 0), end=at(2, 0), hours=4
        ),
        TimeOffApproved(
            request_id="r0", employee_id="e1", start=at(1, 0), end=at(2, 0), decided_by="hr"
        ),
    ]
    with pytest.raises(Rejected, match="balance 5.24 h does not cover"):
        decide(given, ApproveTimeOff(request_id="r1", employee_id="e1", decided_by="m1"))


def test_bad_requests() -> None:
    with pytest.raises(Invalid, match="end after it starts"):
        decide([], request(at(8, 0), at(7, 0)))
    with pytest.raises(Invalid, match="unpaid"):
        decide([], request(at(7, 0), at(8, 0), kind="unpaid", hours=3))
    with pytest.raises(Invalid, match="hours must be between"):
        decide([accrued(100)], request(at(7, 0), at(7, 4), hours=5))
    first = decide([accrued(100)], request(at(7, 0), at(8, 0)))
    with pytest.raises(Rejected, match="overlaps"):
        decide([accrued(100), *first], request(at(7, 12), at(9, 0), rid="r2"))


def test_default_hours_are_the_rostered_hours_else_8_a_weekday() -> None:
    shift = assigned(assign(at(7, 8), at(7, 14)))
    asked = decide([accrued(100), shift], request(at(7, 0), at(9, 0)))
    assert isinstance(asked[0], TimeOffRequested)
    assert asked[0].hours == 6
    asked = decide([accrued(100)], request(at(7, 0), at(9, 0)))
    assert isinstance(asked[0], TimeOffRequested)
    assert asked[0].hours == 16
    # Nothing rostered: 8 h a weekday; Saturday 12 to Monday 14 December noon is Monday's 8 h.
    asked = decide([accrued(100)], request(at(12, 0), at(14, 12)))
    assert isinstance(asked[0], TimeOffRequested)
    assert asked[0].hours == 8
    asked = decide([accrued(100)], request(at(14, 9), at(14, 13)))
    assert isinstance(asked[0], TimeOffRequested)
    assert asked[0].hours == 4


def test_approval_unassigns_the_shifts_inside_the_time_off() -> None:
    shift = assigned(assign(at(7, 8), at(7, 14)))
    other = assigned(assign(at(9, 8), at(9, 14), shift_id="s2"))
    asked = decide([accrued(100), shift, other], request(at(7, 0), at(8, 0)))
    approved = decide(
        [accrued(100), shift, other, *asked],
        ApproveTimeOff(request_id="r1", employee_id="e1", decided_by="m1"),
    )
    assert [type(e).__name__ for e in approved] == ["TimeOffApproved", "ShiftUnassigned"]
    assert isinstance(approved[1], ShiftUnassigned)
    assert approved[1].shift_id == "s1"


# ----------------------------------------------------------------------------- PTO accrual


def accrue(today: date, who: Employment = DANA, cap: float | None = None) -> AccruePto:
    return AccruePto(
        employee_id="e1",
        today=today,
        policy_hours=4.62,
        policy_period_days=14,
        policy_anchor=date(2024, 1, 1),
        policy_max_balance=cap,
        employment=who,
    )


def test_periods() -> None:
    policy = PtoPolicy()
    assert policy.period_of(date(2024, 1, 1)) == (date(2024, 1, 1), date(2024, 1, 14))
    assert policy.period_of(date(2023, 12, 31)) == (date(2023, 12, 18), date(2023, 12, 31))
    assert policy.completed(date(2026, 1, 12), date(2026, 1, 26)) == [
        (date(2026, 1, 12), date(2026, 1, 25))
    ]
    assert policy.completed(date(2026, 1, 14), date(2026, 1, 25)) == []


def test_accrual_credits_each_completed_period_once() -> None:
    first = decide([], accrue(date(2026, 2, 9)))
    assert first == [
        accrued(4.62, date(2026, 1, 12)),
        accrued(4.62, date(2026, 1, 26)),
    ]
    assert decide(first, accrue(date(2026, 2, 9))) == []
    assert decide(first, accrue(date(2026, 2, 23))) == [accrued(4.62, date(2026, 2, 9))]
    # A year of 26 periods at full time: 120 h.
    assert timesheet.fold(decide([], accrue(date(2027, 1, 11)))).accrued == 120.12


def test_accrual_follows_fte_and_employment_and_the_cap() -> None:
    half = fold_employee(
        JobChanged(
            employee_id="e1",
            title="Medical assistant",
            role="medical_assistant",
            site_ids=("north",),
            fte=0.5,
            effective_on=date(2026, 1, 26),
        ),
        EmployeeTerminated(employee_id="e1", last_day=date(2026, 2, 10), reason="left"),
    )
    events = decide([], accrue(date(2026, 6, 1), who=half))
    assert [(e.period_start, e.hours, e.fte) for e in events if isinstance(e, PtoAccrued)] == [
        (date(2026, 1, 12), 4.62, 1.0),
        (date(2026, 1, 26), 2.31, 0.5),
    ]
    capped = decide([], accrue(date(2026, 3, 9), cap=10))
    assert [e.hours for e in capped if isinstance(e, PtoAccrued)] == [4.62, 4.62, 0.76, 0.0]


# ----------------------------------------------------------------------------- a site's settings


def test_a_site_needs_its_zone_before_templates() -> None:
    template = DefineShiftTemplate(
        site_id="north",
        template_id="early",
        name="Early",
        start=time(7),
        end=time(15),
        weekdays=(4, 0, 0),
    )
    with pytest.raises(Rejected, match="no time zone"):
        site_roster.decide(site_roster.initial, template)
    zoned = site_roster.fold([SiteTimeZoneSet(site_id="north", time_zone="America/New_York")])
    assert site_roster.decide(zoned, template) == [
        ShiftTemplateDefined(
            site_id="north",
            template_id="early",
            name="Early",
            start=time(7),
            end=time(15),
            weekdays=(0, 4),
        )
    ]
    assert (
        site_roster.decide(zoned, SetTimeZone(site_id="north", time_zone="America/New_York")) == []
    )
    with pytest.raises(Invalid, match="weekdays"):
        site_roster.decide(zoned, template.model_copy(update={"weekdays": (7,)}))
    twice = StaffingMinimum(weekday=0, hour=8, headcount=2)
    with pytest.raises(Invalid, match="two minimums"):
        site_roster.decide(zoned, SetMinimumStaffing(site_id="north", minimums=(twice, twice)))


# ----------------------------------------------------------------------------- coverage gaps


def test_gaps_count_whole_hours_local_time_and_last_weeks_night_shift() -> None:
    zone = ZoneInfo("America/New_York")
    monday = date(2026, 12, 7)  # New York is UTC-5 then
    minimums: list[dict[str, Any]] = [
        {"weekday": 0, "hour": 2, "headcount": 1, "role": None},
        {"weekday": 0, "hour": 8, "headcount": 1, "role": None},
        {"weekday": 0, "hour": 9, "headcount": 1, "role": "nurse"},
    ]

    def span(start: datetime, end: datetime, role: str = "nurse") -> tuple[float, float, str]:
        return (start.timestamp(), end.timestamp(), role)

    sunday_night = span(datetime(2026, 12, 7, 3, tzinfo=UTC), datetime(2026, 12, 7, 11, tzinfo=UTC))
    half_past_eight = span(
        datetime(2026, 12, 7, 13, 30, tzinfo=UTC),
        datetime(2026, 12, 7, 16, tzinfo=UTC),
        "front_desk",
    )
    found = gaps(monday, zone, minimums, [sunday_night, half_past_eight])
    # 22:00 Sunday to 06:00 Monday covers 02:00; 08:30 covers neither 08:00 nor (front desk) 09:00.
    assert [(g["hour"], g["role"], g["rostered"]) for g in found] == [(8, None, 0), (9, "nurse", 0)]
