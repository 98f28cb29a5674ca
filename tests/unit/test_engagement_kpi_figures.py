"""A month's KPIs from the projection's sums agree with `kpis.py` over the visits themselves:
the histogram's median and mean are `wait_time`'s, a template's minutes are counted day by day,
a group's sums add its sites'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from services.engagement.api.dashboard import months_to
from services.engagement.domain import kpi_figures, kpi_receivables
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


def test_days_in_ar_sums_the_balance_of_every_month_to_it_and_charges_of_three() -> None:
    history = [  # in any order; a later month's documents are not counted
        {"month": "2027-01", "ar_cents": 500, "charges_cents": 9_000},
        {"month": "2026-10", "ar_cents": 4_000, "charges_cents": 4_000},
        {"month": "2026-12", "ar_cents": -1_000, "charges_cents": 3_000},
        {"month": "2026-11", "ar_cents": 2_000},
    ]
    figure = kpi_figures.days_in_ar(history, "2026-12")
    # 5000 owed at 31 December over 7000 charged in October to December (92 days): 65.71.
    assert (figure["value"], figure["numerator"], figure["denominator"]) == (65.7, 5_000, 7_000)
    assert (figure["days"], figure["as_of"]) == (92, "2026-12-31")
    january = kpi_figures.days_in_ar(history, "2027-01")
    # November to January: 30 + 31 + 31 days, 12000 charged, 5500 owed: 42.17.
    assert (january["value"], january["days"]) == (42.2, 92)
    uncharged = [{"month": "2026-11", "ar_cents": 10}]
    assert kpi_figures.days_in_ar(uncharged, "2026-11")["value"] is None


def test_a_patients_payment_goes_to_the_visit_named_then_the_oldest_then_a_credit() -> None:
    visits = [
        {"site_id": "north", "date_of_service": "2026-10-01", "charge_id": "c1", "open_cents": 300},
        {"site_id": "south", "date_of_service": "2026-09-01", "charge_id": "c2", "open_cents": 200},
    ]
    items, moved = kpi_receivables.patient_moved(
        visits, -1_000, charge_id="c1", site_id="east", today="2026-11-02"
    )
    assert moved == {"north": -300, "south": -200, "east": -500}
    assert [i["open_cents"] for i in items] == [-500]
    items, moved = kpi_receivables.patient_moved(items, 700, today="2026-11-03")
    assert moved == {"east": 500, "": 200}  # the credit first, the rest owed at no site
