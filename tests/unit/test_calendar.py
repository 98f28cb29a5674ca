"""Time arithmetic for the front desk: local hours as UTC intervals, across DST changes too."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain.calendar import (
    Interval,
    intersect,
    local_day,
    merge,
    overlaps,
    subtract,
    within,
)

NEW_YORK = ZoneInfo("America/New_York")


def utc(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def h(hour: int, minute: int = 0) -> datetime:
    """A time on 1 December 2026 (UTC)."""
    return utc(1, hour, minute)


def span(opens: str, closes: str) -> tuple[time, time]:
    return time.fromisoformat(opens), time.fromisoformat(closes)


# ----------------------------------------------------------------------------- local_day


def test_a_winter_day_in_new_york_is_five_hours_behind_utc() -> None:
    assert local_day(date(2026, 12, 1), [span("08:00", "17:00")], NEW_YORK) == [(h(13), h(22))]


def test_a_summer_day_in_new_york_is_four_hours_behind_utc() -> None:
    assert local_day(date(2026, 7, 1), [span("08:00", "17:00")], NEW_YORK) == [
        (utc(1, 12, month=7), utc(1, 21, month=7))
    ]


def test_spans_come_back_sorted() -> None:
    assert local_day(
        date(2026, 12, 1), [span("13:00", "17:00"), span("08:00", "12:00")], NEW_YORK
    ) == [(h(13), h(17)), (h(18), h(22))]


def test_touching_spans_are_one_interval() -> None:
    assert local_day(
        date(2026, 12, 1), [span("12:00", "17:00"), span("08:00", "12:00")], NEW_YORK
    ) == [(h(13), h(22))]


def test_the_day_clocks_go_forward_the_morning_is_an_hour_shorter() -> None:
    # 2026-03-08: at 02:00 EST New York jumps to 03:00 EDT.
    spring = date(2026, 3, 8)
    [(start, end)] = local_day(spring, [span("00:00", "04:00")], NEW_YORK)

    assert (start, end) == (utc(8, 5, month=3), utc(8, 8, month=3))
    assert end - start == timedelta(hours=3)


def test_the_day_clocks_go_forward_office_hours_are_on_daylight_time() -> None:
    assert local_day(date(2026, 3, 8), [span("08:00", "17:00")], NEW_YORK) == [
        (utc(8, 12, month=3), utc(8, 21, month=3))
    ]
    assert local_day(date(2026, 3, 7), [span("08:00", "17:00")], NEW_YORK) == [
        (utc(7, 13, month=3), utc(7, 22, month=3))
    ]


def test_the_day_clocks_go_back_the_night_is_an_hour_longer() -> None:
    # 2026-11-01: at 02:00 EDT New York falls back to 01:00 EST.
    autumn = date(2026, 11, 1)
    [(start, end)] = local_day(autumn, [span("00:00", "04:00")], NEW_YORK)

    assert (start, end) == (utc(1, 4, month=11), utc(1, 9, month=11))
    assert end - start == timedelta(hours=5)


def test_the_day_clocks_go_back_office_hours_are_on_standard_time() -> None:
    assert local_day(date(2026, 11, 1), [span("08:00", "17:00")], NEW_YORK) == [
        (utc(1, 13, month=11), utc(1, 22, month=11))
    ]
    assert local_day(date(2026, 10, 31), [span("08:00", "17:00")], NEW_YORK) == [
        (utc(31, 12, month=10), utc(31, 21, month=10))
    ]


def test_an_ambiguous_local_time_is_its_first_occurrence() -> None:
    # 01:30 happens twice on 2026-11-01; the first (EDT) is meant.
    [(start, _)] = local_day(date(2026, 11, 1), [span("01:30", "03:00")], NEW_YORK)
    assert start == utc(1, 5, 30, month=11)


def test_a_day_without_spans_is_empty() -> None:
    assert local_day(date(2026, 12, 1), [], NEW_YORK) == []


# ------------------------------------------------------------------------------- intersect


@pytest.mark.parametrize(
    ("a", "b", "both"),
    [
        ([(h(9), h(12))], [(h(10), h(14))], [(h(10), h(12))]),
        ([(h(9), h(17))], [(h(10), h(11)), (h(13), h(14))], [(h(10), h(11)), (h(13), h(14))]),
        ([(h(9), h(12))], [(h(12), h(14))], []),  # touching is not overlapping
        ([(h(9), h(12))], [(h(13), h(14))], []),
        ([(h(9), h(12))], [], []),
        ([], [(h(9), h(12))], []),
        ([(h(13), h(15)), (h(9), h(11))], [(h(8), h(18))], [(h(9), h(11)), (h(13), h(15))]),
    ],
)
def test_intersect(a: list[Interval], b: list[Interval], both: list[Interval]) -> None:
    assert intersect(a, b) == both
    assert intersect(b, a) == both


# -------------------------------------------------------------------------------- subtract


@pytest.mark.parametrize(
    ("taken", "left"),
    [
        ([], [(h(9), h(17))]),
        ([(h(12), h(13))], [(h(9), h(12)), (h(13), h(17))]),
        ([(h(8), h(10))], [(h(10), h(17))]),
        ([(h(16), h(18))], [(h(9), h(16))]),
        ([(h(8), h(18))], []),
        ([(h(9), h(17))], []),
        ([(h(17), h(18)), (h(7), h(9))], [(h(9), h(17))]),  # touching takes nothing
        ([(h(10), h(11)), (h(14), h(15))], [(h(9), h(10)), (h(11), h(14)), (h(15), h(17))]),
        ([(h(10), h(12)), (h(11), h(13))], [(h(9), h(10)), (h(13), h(17))]),
    ],
)
def test_subtract(taken: list[Interval], left: list[Interval]) -> None:
    assert subtract([(h(9), h(17))], taken) == left


def test_subtract_cuts_every_free_interval() -> None:
    free = [(h(8), h(10)), (h(11), h(13))]
    assert subtract(free, [(h(9), h(12))]) == [(h(8), h(9)), (h(12), h(13))]


# ---------------------------------------------------------------------------------- within


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        (h(9), h(12, 45), True),  # exactly the first window
        (h(9), h(9, 30), True),
        (h(16, 30), h(17), True),
        (h(8, 45), h(9, 15), False),  # starts before
        (h(16, 45), h(17, 15), False),  # ends after
        (h(12, 30), h(13, 30), False),  # across the gap between the windows
        (h(9), h(17), False),
        (h(18), h(18, 30), False),
    ],
)
def test_within(start: datetime, end: datetime, inside: bool) -> None:
    assert within([(h(9), h(12, 45)), (h(13, 15), h(17))], start, end) is inside


def test_within_nothing_is_never_inside() -> None:
    assert within([], h(9), h(10)) is False


def test_within_touching_windows_is_inside_both() -> None:
    assert within([(h(9), h(12)), (h(12), h(15))], h(11, 45), h(12, 15)) is True


# ---------------------------------------------------------------------------- merge, overlaps


def test_merge_joins_touching_and_overlapping_intervals() -> None:
    intervals = [(h(14), h(15)), (h(9), h(11)), (h(10), h(12)), (h(12), h(13)), (h(16), h(17))]
    assert merge(intervals) == [(h(9), h(13)), (h(14), h(15)), (h(16), h(17))]
    assert merge([]) == []


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((h(9), h(10)), (h(9, 30), h(10, 30)), True),
        ((h(9), h(10)), (h(9), h(10)), True),
        ((h(9), h(12)), (h(10), h(11)), True),
        ((h(9), h(10)), (h(10), h(11)), False),  # back to back
        ((h(9), h(10)), (h(11), h(12)), False),
    ],
)
def test_overlaps(a: Interval, b: Interval, overlap: bool) -> None:
    assert overlaps(*a, *b) is overlap
    assert overlaps(*b, *a) is overlap
