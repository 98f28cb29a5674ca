"""A month's KPIs from the projection's sums agree with `kpis.py` over the visits themselves:
the histogram's median and mean are `wait_time`'s, a template's minutes are counted day by day,
a group's sums add its sites'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from services.engagement.api.dashboard import months_to
from services.engagement.domain import kpi_figures
from services.engagement.domain.kpis import Spread, Visit, wait_time


def test_a_histograms_median_and_mean_are_those_of_the_visits() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    waits = [600, 600, 725, 1260, 90]  # seconds
    visits = [
        Visit(
            appointment_id=f"a{n}",
            provider_id="p",
            start=start,
            end=start + timedelta(minutes=30),
            outcome="completed",
            checked_in_at=start,
            roomed_at=start + timedelta(seconds=seconds),
        )
        for n, seconds in enumerate(waits)
    ]
    histogram = {"600": 2, "725": 1, "1260": 1, "90": 1}
    assert kpi_figures.spread(histogram) == wait_time(visits)
    assert kpi_figures.spread({"600": 1, "1260": 1}).median == Fraction(1860, 120)
    assert kpi_figures.spread({}) == Spread(0, None, None)
    assert kpi_figures.spread({"60": 0}) == Spread(0, None, None)


def test_a_templates_minutes_follow_the_template_in_force_each_day() -> None:
    # March 2026: Mondays 2, 9, 16, 23, 30; Wednesdays 4, 11, 18, 25.
    templates = {
        "t1": {
            "windows": [{"weekday": 0, "start": 540, "end": 720}],
            "from": "2026-01-01",
            "until": None,
        },  # Mon 3 h
        # From the 16th, Wednesdays 2 hours only, until the 25th (then nothing in force).
        "t2": {
            "windows": [{"weekday": 2, "start": 600, "end": 720}],
            "from": "2026-03-16",
            "until": "2026-03-24",
        },
    }
    # t1 on the 2nd and 9th (two Mondays, 360); t2 on the 18th (120); the 16th and 23rd are
    # Mondays under t2 (none); from the 25th t2 has ended and no other is in force after it.
    assert kpi_figures.available_minutes(templates, "2026-03") == 480
    assert kpi_figures.available_minutes(templates, "2025-12") == 0


def test_a_groups_sums_add_its_sites() -> None:
    north = {"tenant": "acme", "site_id": "north", "booked": 3, "wait": {"60": 1}, "_rev": 4}
    south = {"tenant": "acme", "site_id": "south", "booked": 2, "wait": {"60": 2, "90": 1}}
    assert kpi_figures.merged([north, south]) == {"booked": 5, "wait": {"60": 3, "90": 1}}


def test_utilisation_counts_providers_with_time_available() -> None:
    served = kpi_figures.utilisation({"a": 90, "b": 30, "c": 60}, {"a": 180, "b": 0, "c": 60})
    assert (served["value"], served["numerator"], served["denominator"]) == (62.5, 150, 240)
    assert [p["provider_id"] for p in served["providers"]] == ["a", "c"]


def test_the_twelve_months_to_a_month_cross_the_year() -> None:
    assert months_to("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert len(months_to("2026-12")) == 12
