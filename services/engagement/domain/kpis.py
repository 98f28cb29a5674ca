"""The office KPIs as pure folds over plain inputs: the projections that serve them (per site
and month) gather the inputs from every context's events and call these. Each function's
docstring is the KPI's definition. Rates are `Ratio`s (exact counts, rounded only when shown);
durations are in minutes; days in AR is rounded to one decimal, halves up. The revenue-cycle
ones are billing's definitions (docs/kpis.md), so the two never disagree; the others are
written down there too, under "Office KPIs".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import median
from typing import Literal

from services.engagement.domain.surveys import nps

__all__ = [
    "Claim",
    "Credential",
    "Ratio",
    "Spread",
    "TrainingAssignment",
    "Visit",
    "credentials_expiring",
    "cycle_time",
    "days_in_ar",
    "initial_denial_rate",
    "late_cancellation_rate",
    "net_collection_rate",
    "net_promoter_score",
    "no_show_rate",
    "provider_utilisation",
    "third_next_available",
    "training_compliance",
    "wait_time",
]

LATE_CANCELLATION = timedelta(hours=24)


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    def percent(self, places: int = 1) -> Decimal | None:
        """100 x the ratio, rounded to `places` decimals, halves up; None over nothing."""
        if not self.denominator:
            return None
        exact = Decimal(100 * self.numerator) / Decimal(self.denominator)
        return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Spread:
    """Minutes: how many, their mean and median (None when there are none)."""

    count: int
    mean: Fraction | None
    median: Fraction | None


@dataclass(frozen=True)
class Visit:
    """One appointment booked for the period, as scheduling recorded it."""

    appointment_id: str
    provider_id: str
    start: datetime
    end: datetime
    outcome: Literal["completed", "no_show", "cancelled", "booked"]
    cancelled_at: datetime | None = None
    checked_in_at: datetime | None = None
    roomed_at: datetime | None = None
    completed_at: datetime | None = None


def no_show_rate(visits: Iterable[Visit]) -> Ratio:
    """No-shows over the appointments whose time came and that were not cancelled (completed
    plus no-shows)."""
    kept = [v for v in visits if v.outcome in ("completed", "no_show")]
    return Ratio(sum(1 for v in kept if v.outcome == "no_show"), len(kept))


def late_cancellation_rate(visits: Iterable[Visit]) -> Ratio:
    """Cancellations recorded less than 24 hours before the start, over every appointment
    booked for the period (cancelled or not)."""
    every = list(visits)
    late = [
        v
        for v in every
        if v.outcome == "cancelled"
        and v.cancelled_at is not None
        and v.start - v.cancelled_at < LATE_CANCELLATION
    ]
    return Ratio(len(late), len(every))


def _spread(minutes: list[Fraction]) -> Spread:
    if not minutes:
        return Spread(0, None, None)
    return Spread(len(minutes), sum(minutes, Fraction(0)) / len(minutes), Fraction(median(minutes)))


def _minutes(start: datetime, end: datetime) -> Fraction:
    return Fraction(int((end - start).total_seconds()), 60)


def wait_time(visits: Iterable[Visit]) -> Spread:
    """Minutes from arrival (check-in) to rooming, over visits that have both."""
    return _spread(
        [
            _minutes(v.checked_in_at, v.roomed_at)
            for v in visits
            if v.checked_in_at is not None and v.roomed_at is not None
        ]
    )


def cycle_time(visits: Iterable[Visit]) -> Spread:
    """Minutes from arrival (check-in) to completion, over completed visits checked in."""
    return _spread(
        [
            _minutes(v.checked_in_at, v.completed_at)
            for v in visits
            if v.checked_in_at is not None and v.completed_at is not None
        ]
    )


def provider_utilisation(
    visits: Iterable[Visit], available_minutes: Mapping[str, int]
) -> dict[str, Ratio]:
    """Per provider: minutes booked (appointments not cancelled: completed, no-show or still
    booked) over the minutes they were available in the period. A provider with no available
    time has no utilisation."""
    booked: dict[str, int] = dict.fromkeys(available_minutes, 0)
    for v in visits:
        if v.outcome != "cancelled" and v.provider_id in booked:
            booked[v.provider_id] += int((v.end - v.start).total_seconds()) // 60
    return {
        provider: Ratio(booked[provider], minutes)
        for provider, minutes in sorted(available_minutes.items())
        if minutes > 0
    }


def third_next_available(open_slot_days: Iterable[date], measured_on: date) -> int | None:
    """Days from `measured_on` to the third open slot on or after it (slots counted one by one,
    several on a day counting each, as the IHI measures it); None with fewer than three."""
    ahead = sorted(day for day in open_slot_days if day >= measured_on)
    return (ahead[2] - measured_on).days if len(ahead) >= 3 else None


def net_promoter_score(scores: Iterable[int]) -> int | None:
    """NPS of likelihood-to-recommend answers (surveys.nps: promoters 9-10, detractors 0-6,
    100 x (P - D) / N rounded halves away from zero)."""
    return nps(scores)


def days_in_ar(ar_balance_cents: int, charges_cents: int, days: int) -> Decimal | None:
    """Receivables at the end of the period over the average daily gross charges
    (`charges_cents` / `days`), rounded to 0.1 day, halves up; None without charges. Billing
    averages over the last three months: pass their charges and their number of days."""
    if charges_cents <= 0 or days <= 0:
        return None
    exact = Decimal(ar_balance_cents * days) / Decimal(charges_cents)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Claim:
    claim_id: str
    first_response: Literal["paid", "denied", "partial", "pending"]


def initial_denial_rate(claims: Iterable[Claim]) -> Ratio:
    """Claims denied on their first adjudication over the claims first adjudicated (pending
    ones are not counted); a partial payment is not a denial."""
    answered = [c for c in claims if c.first_response != "pending"]
    return Ratio(sum(1 for c in answered if c.first_response == "denied"), len(answered))


def net_collection_rate(
    payments_cents: int, charges_cents: int, contractual_adjustments_cents: int
) -> Ratio:
    """Payments received over what was collectible: charges less contractual adjustments."""
    return Ratio(payments_cents, charges_cents - contractual_adjustments_cents)


@dataclass(frozen=True)
class TrainingAssignment:
    employee_id: str
    course_id: str
    due_on: date
    completed_on: date | None = None


def training_compliance(assignments: Iterable[TrainingAssignment], as_of: date) -> Ratio:
    """Assignments due on or before `as_of` that were completed by their due date, over the
    assignments due on or before `as_of`."""
    due = [a for a in assignments if a.due_on <= as_of]
    on_time = [a for a in due if a.completed_on is not None and a.completed_on <= a.due_on]
    return Ratio(len(on_time), len(due))


@dataclass(frozen=True)
class Credential:
    employee_id: str
    kind: str
    expires_on: date | None  # None: does not expire


def credentials_expiring(credentials: Iterable[Credential], as_of: date) -> dict[int, int]:
    """How many credentials expire after `as_of` and within 30, 60 and 90 days of it (each
    window counts those of the shorter ones too); expired ones are not counted."""
    left = [
        (c.expires_on - as_of).days
        for c in credentials
        if c.expires_on is not None and c.expires_on > as_of
    ]
    return {window: sum(1 for days in left if days <= window) for window in (30, 60, 90)}
