"""A provider's time off subtracts from their template minutes only where it covers the
windows, in the site's wall-clock time: blocks and time off overlapping each other count once,
cancelled time off not at all, leave whole days up to the first day back; across a change of
clock the windows are covered as the wall clock shows them (kpi_off.py)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.engagement.domain import kpi_figures, kpi_off

BERLIN = ZoneInfo("Europe/Berlin")
MONDAYS = {"t1": {"windows": [{"weekday": 0, "start": 540, "end": 720}], "from": "2026-01-01"}}


def span(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


def test_time_off_covers_the_template_windows_once_and_cancelled_time_off_not_at_all() -> None:
    # March 2026, Mondays 09:00-12:00 UTC: the 2nd, 9th, 16th, 23rd and 30th, 900 minutes.
    off = {
        "kind": "off",
        "provider_id": "p",
        # The 2nd: 10:00-11:00 and 10:30-11:30 overlap: 10:00-11:30, 90 minutes.
        "blocks": {
            "b1": span("2026-03-02T10:00:00+00:00", "2026-03-02T11:00:00+00:00"),
            "b2": span("2026-03-02T10:30:00+00:00", "2026-03-02T11:30:00+00:00"),
        },
        "time_off": {
            # The 9th from 08:00 (before the window) to 10:30: 90 minutes.
            "o1": span("2026-03-09T08:00:00+00:00", "2026-03-09T10:30:00+00:00"),
            # The whole 16th, cancelled (the cancellation may come first: no times then).
            "o2": {**span("2026-03-16T00:00:00+00:00", "2026-03-17T00:00:00+00:00")}
            | {"cancelled": True},
            "o3": {"cancelled": True},
        },
        # On leave from the 21st, back on the 30th: the 23rd, 180 minutes; one only ended.
        "leaves": {
            "l1": {"from": "2026-03-21", "back": "2026-03-30"},
            "l2": {"back": "2026-03-02"},
        },
    }
    site = {"tenant": "acme", "site_id": "north", "providers": {"p": MONDAYS}}
    assert kpi_figures.available_by_provider([site], "2026-03") == {"p": 900}
    assert kpi_figures.available_by_provider([site], "2026-03", {"p": off}) == {"p": 540}
    # An open leave (not ended) covers every day from its first: the 23rd and the 30th.
    open_leave = {"leaves": {"l1": {"from": "2026-03-20"}}}
    assert kpi_figures.available_by_provider([site], "2026-03", {"p": open_leave}) == {"p": 540}
    # Another provider's time off is not theirs.
    assert kpi_figures.available_by_provider([site], "2026-03", {"q": off}) == {"p": 900}


def test_time_off_is_read_in_the_sites_zone() -> None:
    # 09:00-12:00 at Berlin (UTC+1 in March before the 29th) is 08:00-11:00 UTC.
    site = {"site_id": "north", "providers": {"p": MONDAYS}}
    off = {"blocks": {"b": span("2026-03-02T10:00:00+00:00", "2026-03-02T12:00:00+00:00")}}
    zones = {"north": BERLIN}
    assert kpi_figures.available_by_provider([site], "2026-03", {"p": off}, zones) == {"p": 840}
    # A site without a zone given is read in UTC: 10:00-12:00 UTC covers 120 minutes.
    assert kpi_figures.available_by_provider([site], "2026-03", {"p": off}) == {"p": 780}


def test_across_a_change_of_clock_the_wall_clock_windows_are_covered() -> None:
    # Sunday 25 October 2026, Berlin: at 03:00 CEST the clocks go back to 02:00 CET.
    # 00:00 CEST to 02:30 CET is 3 h 30 of real time and covers 00:00-03:00 on the wall.
    start = datetime.fromisoformat("2026-10-25T00:00:00+02:00")
    end = datetime.fromisoformat("2026-10-25T02:30:00+01:00")
    walls = kpi_off.wall(start, end, BERLIN)
    local = datetime.fromisoformat  # wall-clock times: no zone
    assert walls == [(local("2026-10-25T00:00"), local("2026-10-25T03:00"))]
    day = date(2026, 10, 25)
    assert kpi_off.covered(day, [(0, 240)], walls) == 180  # the window 00:00-04:00: 60 left
    assert kpi_off.covered(day, [(150, 240)], walls) == 30  # 02:30-04:00: 02:30-03:00
    # Sunday 29 March 2026: at 02:00 CET the clocks go forward to 03:00 CEST. The window
    # 01:00-04:00 counts 180 minutes; time off over all of it (2 hours of real time) covers
    # all of it, never more.
    spring = kpi_off.wall(
        datetime.fromisoformat("2026-03-29T01:00:00+01:00"),
        datetime.fromisoformat("2026-03-29T04:00:00+02:00"),
        BERLIN,
    )
    assert kpi_off.covered(date(2026, 3, 29), [(60, 240)], spring) == 180
    sundays = {"t": {"windows": [{"weekday": 6, "start": 0, "end": 240}], "from": "2026-10-01"}}
    site = {"site_id": "north", "providers": {"p": sundays}}
    off = {"time_off": {"o": span(start.isoformat(), end.isoformat())}}
    # Four Sundays of October (4, 11, 18, 25) at 240 minutes, less 180 on the 25th.
    zones = {"north": BERLIN}
    assert kpi_figures.available_by_provider([site], "2026-10", {"p": off}, zones) == {"p": 780}


def test_a_time_off_not_ending_after_it_starts_covers_nothing() -> None:
    moment = datetime.fromisoformat("2026-03-02T10:00:00+00:00")
    assert kpi_off.wall(moment, moment, BERLIN) == []
