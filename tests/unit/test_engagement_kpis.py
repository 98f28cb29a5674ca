"""Each office KPI equals a hand computation over a small month (March 2026, one site, two
providers), the expected values worked out in the comments beside them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from services.engagement.domain.kpis import (
    Claim,
    Credential,
    Ratio,
    Spread,
    TrainingAssignment,
    Visit,
    credentials_expiring,
    cycle_time,
    days_in_ar,
    initial_denial_rate,
    late_cancellation_rate,
    net_collection_rate,
    net_promoter_score,
    no_show_rate,
    provider_utilisation,
    third_next_available,
    training_compliance,
    wait_time,
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


Outcome = Literal["completed", "no_show", "cancelled", "booked"]


def visit(
    n: int,
    provider: str,
    start: datetime,
    end: datetime,
    outcome: Outcome,
    **times: datetime,
) -> Visit:
    return Visit(f"ap-{n}", provider, start, end, outcome, **times)


MONTH = [
    # wait 12, cycle 45
    visit(
        1,
        "pr-1",
        at(2, 14),
        at(2, 14, 30),
        "completed",
        checked_in_at=at(2, 13, 55),
        roomed_at=at(2, 14, 7),
        completed_at=at(2, 14, 40),
    ),
    # wait 20, cycle 45
    visit(
        2,
        "pr-1",
        at(2, 15),
        at(2, 15, 30),
        "completed",
        checked_in_at=at(2, 14, 50),
        roomed_at=at(2, 15, 10),
        completed_at=at(2, 15, 35),
    ),
    visit(3, "pr-1", at(3, 14), at(3, 14, 30), "no_show"),
    # cancelled 6 hours before: late
    visit(4, "pr-1", at(3, 15), at(3, 15, 20), "cancelled", cancelled_at=at(3, 9)),
    # wait 15, cycle 80
    visit(
        5,
        "pr-2",
        at(4, 14),
        at(4, 15),
        "completed",
        checked_in_at=at(4, 13, 50),
        roomed_at=at(4, 14, 5),
        completed_at=at(4, 15, 10),
    ),
    # cancelled four days before: not late
    visit(6, "pr-2", at(5, 14), at(5, 14, 30), "cancelled", cancelled_at=at(1, 10)),
    # cancelled exactly 24 hours before: not late (late is less than 24 hours)
    visit(7, "pr-2", at(5, 15), at(5, 15, 30), "cancelled", cancelled_at=at(4, 15)),
    visit(8, "pr-2", at(6, 14), at(6, 14, 30), "no_show"),
    # wait 3, cycle 52
    visit(
        9,
        "pr-1",
        at(6, 16),
        at(6, 16, 45),
        "completed",
        checked_in_at=at(6, 15, 58),
        roomed_at=at(6, 16, 1),
        completed_at=at(6, 16, 50),
    ),
    visit(10, "pr-2", at(31, 14), at(31, 14, 30), "booked"),
]


def test_no_show_rate() -> None:
    # kept: 4 completed + 2 no-shows = 6; 2 no-shows: 2/6 = 33.3 %
    rate = no_show_rate(MONTH)
    assert rate == Ratio(2, 6)
    assert rate.percent() == Decimal("33.3")


def test_late_cancellation_rate() -> None:
    # 1 late (ap-4) of the 10 booked for the month
    assert late_cancellation_rate(MONTH) == Ratio(1, 10)
    assert late_cancellation_rate(MONTH).percent() == Decimal("10.0")


def test_wait_time_from_arrival_to_rooming() -> None:
    # 12, 20, 15, 3: mean 50/4 = 12.5, median (12 + 15) / 2 = 13.5
    assert wait_time(MONTH) == Spread(4, Fraction(25, 2), Fraction(27, 2))


def test_cycle_time_from_arrival_to_completion() -> None:
    # 45, 45, 80, 52: mean 222/4 = 55.5, median (45 + 52) / 2 = 48.5
    assert cycle_time(MONTH) == Spread(4, Fraction(111, 2), Fraction(97, 2))


def test_provider_utilisation_is_booked_over_available_minutes() -> None:
    # pr-1: 30 + 30 + 30 (no-show) + 45 = 135 of 600; the cancelled 20 minutes do not count.
    # pr-2: 60 + 30 (no-show) + 30 (still booked) = 120 of 480. pr-3 had no time: none.
    got = provider_utilisation(MONTH, {"pr-1": 600, "pr-2": 480, "pr-3": 0})
    assert got == {"pr-1": Ratio(135, 600), "pr-2": Ratio(120, 480)}
    assert [r.percent() for r in got.values()] == [Decimal("22.5"), Decimal("25.0")]


def test_third_next_available_appointment_in_days() -> None:
    # from 2 March: open slots on the 4th, the 4th again, the 9th, the 12th (the 1st is past):
    # the third is the 9th, 7 days on
    slots = [
        date(2026, 3, 1),
        date(2026, 3, 12),
        date(2026, 3, 4),
        date(2026, 3, 9),
        date(2026, 3, 4),
    ]
    assert third_next_available(slots, date(2026, 3, 2)) == 7
    assert third_next_available(slots, date(2026, 3, 10)) is None  # only one left


def test_nps() -> None:
    # 3 promoters (10, 9, 10), 1 detractor (4), 1 passive (7) of 5: (3 - 1) / 5 = 40
    assert net_promoter_score([10, 9, 7, 4, 10]) == 40


def test_days_in_ar() -> None:
    # $45,150.00 owed at the month's end; $93,000.00 charged over its 31 days, $3,000.00 a day:
    # 45,150 / 3,000 = 15.05 days, rounded halves up to 15.1
    assert days_in_ar(4_515_000, 9_300_000, 31) == Decimal("15.1")
    assert days_in_ar(4_500_000, 9_300_000, 31) == Decimal("15.0")
    assert days_in_ar(100, 0, 31) is None


def test_initial_denial_rate() -> None:
    # 6 first answers (the pending one waits), 2 denials; a partial payment is no denial
    responses: list[Literal["paid", "denied", "partial", "pending"]] = [
        "paid",
        "paid",
        "denied",
        "partial",
        "pending",
        "denied",
        "paid",
    ]
    claims = [Claim(f"cl-{n}", r) for n, r in enumerate(responses)]
    assert initial_denial_rate(claims) == Ratio(2, 6)


def test_net_collection_rate() -> None:
    # $81,000 paid of $93,000 charged less $3,000 contractual adjustments: 81,000 / 90,000
    rate = net_collection_rate(8_100_000, 9_300_000, 300_000)
    assert rate == Ratio(8_100_000, 9_000_000)
    assert rate.percent() == Decimal("90.0")


def test_training_compliance() -> None:
    # due by 31 March: 4 (the one due 10 April is not counted); on time: the 9th for the 10th
    # and the 31st for the 31st; late: the 20th for the 15th; not done: due the 20th. 2 of 4.
    assignments = [
        TrainingAssignment("emp-1", "hipaa", date(2026, 3, 10), date(2026, 3, 9)),
        TrainingAssignment("emp-2", "hipaa", date(2026, 3, 15), date(2026, 3, 20)),
        TrainingAssignment("emp-3", "hipaa", date(2026, 3, 20)),
        TrainingAssignment("emp-4", "fire", date(2026, 3, 31), date(2026, 3, 31)),
        TrainingAssignment("emp-5", "fire", date(2026, 4, 10)),
    ]
    assert training_compliance(assignments, date(2026, 3, 31)) == Ratio(2, 4)


def test_credentials_expiring_within_30_60_and_90_days() -> None:
    # from 31 March: 30 April is 30 days on, 30 May 60, 29 June 90, 30 June 91 (none); the one
    # that expired on the 31st and the one that never expires are not counted
    credentials = [
        Credential("emp-1", "state_licence", date(2026, 3, 31)),
        Credential("emp-1", "bls", date(2026, 4, 30)),
        Credential("emp-2", "dea_registration", date(2026, 5, 30)),
        Credential("emp-3", "acls", date(2026, 6, 29)),
        Credential("emp-4", "bls", date(2026, 6, 30)),
        Credential("emp-5", "board_certification", None),
    ]
    assert credentials_expiring(credentials, date(2026, 3, 31)) == {30: 1, 60: 2, 90: 3}


def test_a_rate_over_nothing_has_no_value() -> None:
    assert no_show_rate([]) == Ratio(0, 0)
    assert Ratio(0, 0).value is None
    assert Ratio(0, 0).percent() is None
    assert Ratio(1, 8).percent(2) == Decimal("12.50")
    assert Ratio(1, 3).value == Fraction(1, 3)
    assert wait_time([]) == Spread(0, None, None)
