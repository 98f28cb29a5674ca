"""Time arithmetic for the front desk: local opening hours and weekly windows as UTC intervals.

Pure: the caller passes the site's time zone in as a `tzinfo`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, tzinfo

Interval = tuple[datetime, datetime]


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
