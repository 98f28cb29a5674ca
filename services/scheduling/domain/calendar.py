"""Time arithmetic for the front desk: local opening hours and weekly windows as UTC intervals,
and the span of years the clinic's calendar holds.

Pure: the caller passes the site's time zone in as a `tzinfo`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, tzinfo

from pydantic import BaseModel

from shared.domain import Invalid

Interval = tuple[datetime, datetime]

# The calendar the clinic works in. A date outside it is a slip or a probe, and near the edges
# of Python's (years 1 and 9999) a change of time zone or a day added overflows. Any birth
# date fits (records of the long dead too), and so does any booking, licence or template.
FIRST_DAY = date(1800, 1, 1)
LAST_DAY = date(2199, 12, 31)
IN_CALENDAR = f"must lie between {FIRST_DAY} and {LAST_DAY}"


def in_calendar(value: date) -> bool:
    """Whether a date, or a date-time's date where it is given, lies in the calendar."""
    day = value.date() if isinstance(value, datetime) else value
    return FIRST_DAY <= day <= LAST_DAY


def check_calendar(command: BaseModel) -> None:
    """Refuse (Invalid, naming the field) a command holding a date or a date-time outside the
    calendar, also inside tuples and nested models: every date a decider computes with is in
    it, so its arithmetic cannot overflow."""
    for name, value in command:
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, BaseModel):
                check_calendar(item)
            elif isinstance(item, date) and not in_calendar(item):
                raise Invalid(f"{name} {IN_CALENDAR}")


def local_day(day: date, spans: Iterable[tuple[time, time]], zone: tzinfo) -> list[Interval]:
    """Local `(from, to)` times on `day` as sorted UTC intervals, touching spans joined
    (09:00-12:00 and 12:00-15:00 are one time to book in)."""
    return merge(
        (
            datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
            datetime.combine(day, end, tzinfo=zone).astimezone(UTC),
        )
        for start, end in spans
    )


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined into one."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    out = [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b]
    return sorted((s, e) for s, e in out if s < e)


def subtract(free: Sequence[Interval], taken: Iterable[Interval]) -> list[Interval]:
    """`free` with every `taken` interval cut out."""
    result = list(free)
    for t_start, t_end in taken:
        cut: list[Interval] = []
        for start, end in result:
            if t_end <= start or end <= t_start:
                cut.append((start, end))
                continue
            if start < t_start:
                cut.append((start, t_start))
            if t_end < end:
                cut.append((t_end, end))
        result = cut
    return sorted(result)


def within(windows: Iterable[Interval], start: datetime, end: datetime) -> bool:
    """Whether `start`-`end` lies inside the windows (touching windows count as one)."""
    return any(w_start <= start and end <= w_end for w_start, w_end in merge(windows))


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end
