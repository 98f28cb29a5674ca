"""FHIR search parameters, parsed strictly: an unknown or malformed parameter is an error.

Pure: the router turns `BadSearch` into a 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from services.scheduling.api.fhir.ids import our_id

_DATE = re.compile(r"(?P<prefix>[a-z]{2})?(?P<day>\d{4}-\d{2}-\d{2})")
PREFIXES = ("eq", "gt", "lt", "ge", "le")
# The days a date search may name. A search looks a day or two past its dates (a site's zone
# is up to 14 hours from UTC) and a slot search up to 92 days: near the ends of the calendar
# (0001-01-01, 9999-12-31) that would leave it, so its first and last years are refused.
FIRST_DAY = date(2, 1, 1)
LAST_DAY = date(9998, 12, 31)


class BadSearch(ValueError):
    """A search parameter this server does not know or cannot read."""


def params(query: Iterable[tuple[str, str]], known: Sequence[str]) -> dict[str, list[str]]:
    """The query's parameters by name (repeats kept: they combine with AND)."""
    found: dict[str, list[str]] = {}
    for name, value in query:
        if name not in known:
            supported = ", ".join(known) or "none"
            raise BadSearch(f"unknown search parameter {name!r} (supported: {supported})")
        if not value:
            raise BadSearch(f"search parameter {name!r} has no value")
        found.setdefault(name, []).append(value)
    return found


@dataclass(frozen=True)
class DateBound:
    """One `date` parameter at day precision, compared with a site-local date."""

    prefix: str
    day: date

    def admits(self, local_day: date) -> bool:
        match self.prefix:
            case "eq":
                return local_day == self.day
            case "gt":
                return local_day > self.day
            case "lt":
                return local_day < self.day
            case "ge":
                return local_day >= self.day
            case _:  # "le"
                return local_day <= self.day

    def utc_window(self) -> tuple[date | None, date | None]:
        """Bounds on the UTC start date [low, high) wide enough for any site's zone
        (UTC-12 to UTC+14): a coarse filter for the store, refined per site afterwards."""
        match self.prefix:
            case "eq":
                return self.day - timedelta(days=1), self.day + timedelta(days=2)
            case "gt":
                return self.day, None
            case "lt":
                return None, self.day + timedelta(days=1)
            case "ge":
                return self.day - timedelta(days=1), None
            case _:  # "le"
                return None, self.day + timedelta(days=2)


def dates(values: Iterable[str]) -> list[DateBound]:
    bounds = []
    for value in values:
        match = _DATE.fullmatch(value)
        if match is None:
            raise BadSearch(f"date {value!r} is not [prefix]YYYY-MM-DD")
        prefix = match["prefix"] or "eq"
        if prefix not in PREFIXES:
            raise BadSearch(f"date prefix {prefix!r} is not supported (use {', '.join(PREFIXES)})")
        try:
            day = date.fromisoformat(match["day"])
        except ValueError as exc:
            raise BadSearch(f"date {value!r} is not a calendar date") from exc
        if not FIRST_DAY <= day <= LAST_DAY:
            raise BadSearch(
                f"date {value!r} is out of range: search days from {FIRST_DAY} to {LAST_DAY}"
            )
        bounds.append(DateBound(prefix, day))
    return bounds


def day_range(bounds: Iterable[DateBound]) -> tuple[date | None, date | None]:
    """The first and last day (inclusive) that all bounds admit; None where unbounded. The
    range is empty when the first comes after the last."""
    first: date | None = None
    last: date | None = None
    for bound in bounds:
        low, high = {
            "eq": (bound.day, bound.day),
            "gt": (bound.day + timedelta(days=1), None),
            "ge": (bound.day, None),
            "lt": (None, bound.day - timedelta(days=1)),
            "le": (None, bound.day),
        }[bound.prefix]
        if low is not None and (first is None or low > first):
            first = low
        if high is not None and (last is None or high < last):
            last = high
    return first, last


def one(query: dict[str, list[str]], name: str) -> str | None:
    """The value of a parameter that takes a single value (no repeats, no comma lists)."""
    values = query.get(name, [])
    if len(values) > 1 or any("," in value for value in values):
        raise BadSearch(f"search parameter {name!r} takes one value")
    return values[0] if values else None


def token(value: str, system: str) -> str | None:
    """The code of a token `[system|]code`, or None when it names another system (or none,
    as `|code` does): such a token matches nothing here."""
    named, bar, code = value.rpartition("|")
    if not code:
        raise BadSearch(f"token {value!r} has no code")
    if bar and named != system:
        return None
    return code


def codes(values: Iterable[str], allowed: Sequence[str]) -> list[set[str]]:
    """A code parameter: one set per repeat (ANDed) of comma-separated codes (ORed)."""
    found = []
    for value in values:
        wanted = set(value.split(","))
        unknown = sorted(wanted - set(allowed))
        if unknown:
            raise BadSearch(f"unknown code {unknown[0]!r} (use {', '.join(allowed)})")
        found.append(wanted)
    return found


def count(values: Sequence[str], default: int, most: int) -> int:
    """`_count`: how many matches one answer holds."""
    if not values:
        return default
    if len(values) > 1:
        raise BadSearch("_count takes one value")
    if not re.fullmatch(r"[0-9]{1,6}", values[0]) or not 1 <= int(values[0]) <= most:
        raise BadSearch(f"_count is a whole number from 1 to {most}")
    return int(values[0])


def utc_window(bounds: Iterable[DateBound]) -> tuple[date | None, date | None]:
    """The narrowest UTC start-date window that all bounds allow."""
    low: date | None = None
    high: date | None = None
    for bound in bounds:
        lo, hi = bound.utc_window()
        if lo is not None and (low is None or lo > low):
            low = lo
        if hi is not None and (high is None or hi < high):
            high = hi
    return low, high


def references(value: str, kinds: Sequence[str], bare: str | None = None) -> set[str]:
    """A reference parameter (`Kind/id`; commas for OR) as `Kind/id` strings. A bare id is
    read as a `bare` reference when given."""
    found = set()
    for item in value.split(","):
        kind, _, fhir = item.rpartition("/")
        kind = kind or (bare or "")
        if kind not in kinds:
            raise BadSearch(f"reference {item!r} must name one of {', '.join(kinds)}")
        if our_id(fhir) is None:
            raise BadSearch(f"reference {item!r} does not hold a FHIR id")
        found.add(f"{kind}/{fhir}")
    return found


def appointment_filter(
    tenant: str,
    patients: Sequence[set[str]],
    bounds: Iterable[DateBound],
    sites: Sequence[str] | Literal["*"],
) -> dict[str, Any] | None:
    """The read-model filter for an appointment search (`patients`: one set of `Patient/id`
    per parameter, ANDed), or None when nothing can match."""
    where: dict[str, Any] = {"tenant": tenant}
    if patients:
        wanted = set.intersection(*patients)
        ids = sorted(ours for ref in wanted if (ours := our_id(ref.partition("/")[2])))
        if not ids:
            return None
        where["patient_id"] = {"$in": ids}
    low, high = utc_window(bounds)
    if low is not None and high is not None and low >= high:
        return None
    start = {}
    if low is not None:
        start["$gte"] = low.isoformat()
    if high is not None:
        start["$lt"] = high.isoformat()
    if start:
        where["start"] = start
    if sites != "*":
        if not sites:
            return None
        where["site_id"] = {"$in": list(sites)}
    return where
