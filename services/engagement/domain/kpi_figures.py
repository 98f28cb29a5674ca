"""A month's KPIs from the sums the KPI projection keeps (projections/kpis.py): pure, each
through `kpis.py`'s definitions, each served with its value, numerator, denominator and the
id of its definition in docs/kpis.md. A figure not served would say why (`NOT_SERVED`).
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from services.engagement.domain import kpi_off, kpis
from services.engagement.domain.kpi_off import Wall
from services.engagement.domain.kpis import Ratio, Spread

TENTH = Decimal("0.1")
Figures = Mapping[str, Any]  # a month document: counters, and maps of counters

# The ids of docs/kpis.md's definitions ("### <id>" headings there).
DEFINITIONS = {
    "no_show_rate": "kpi-no-show-rate",
    "late_cancellation_rate": "kpi-late-cancellation-rate",
    "wait_time": "kpi-wait-time",
    "cycle_time": "kpi-cycle-time",
    "provider_utilisation": "kpi-provider-utilisation",
    "net_promoter_score": "kpi-nps",
    "initial_denial_rate": "kpi-initial-denial-rate",
    "net_collection_rate": "kpi-net-collection-rate",
    "training_compliance": "kpi-training-compliance",
    "credentials_expiring": "kpi-credentials-expiring",
    "third_next_available": "kpi-third-next-available",
    "days_in_ar": "kpi-days-in-ar",
}

NOT_SERVED: dict[str, str] = {}  # every KPI of issue 17 is served


def merged(docs: Iterable[Figures]) -> dict[str, Any]:
    """The sums of several documents (sites of a group): counters and maps of counters added."""
    total: dict[str, Any] = {}
    for doc in docs:
        for name, value in doc.items():
            if isinstance(value, bool) or name.startswith("_"):
                continue
            if isinstance(value, int):
                total[name] = int(total.get(name, 0)) + value
            elif isinstance(value, dict):
                counts = total.setdefault(name, {})
                for key, n in value.items():
                    if isinstance(n, int):
                        counts[key] = int(counts.get(key, 0)) + n
    return total


def spread(histogram: Mapping[str, int]) -> Spread:
    """Count, mean and median (minutes) of a histogram of seconds -> how many."""
    seconds = sorted((int(s), n) for s, n in histogram.items() if n > 0)
    count = sum(n for _, n in seconds)
    if not count:
        return Spread(0, None, None)
    total = sum(s * n for s, n in seconds)

    def nth(index: int) -> int:
        for s, n in seconds:
            if index < n:
                return s
            index -= n
        raise IndexError(index)

    middle = Fraction(nth((count - 1) // 2) + nth(count // 2), 120)
    return Spread(count, Fraction(total, 60 * count), middle)


def available_minutes(templates: Mapping[str, Any], month: str, off: Sequence[Wall] = ()) -> int:
    """Minutes of a provider's weekly templates at a site in the month: each day, the template
    in force (the latest `from` on or before it, not past its `until`), its windows that day,
    less the part of them the provider's time off (`off`, the site's wall-clock time,
    kpi_off.py) covers."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    ordered = sorted(
        (
            date.fromisoformat(str(t["from"])),
            date.fromisoformat(str(t["until"])) if t.get("until") else None,
            [
                [(int(w["start"]), int(w["end"])) for w in t["windows"] if w["weekday"] == weekday]
                for weekday in range(7)
            ],
        )
        for t in templates.values()
    )
    starts = [starting for starting, _, _ in ordered]
    minutes = 0
    for offset in range(calendar.monthrange(year, number)[1]):
        day = first + timedelta(days=offset)
        index = bisect_right(starts, day) - 1
        if index < 0:
            continue
        _, until, by_weekday = ordered[index]
        if until is None or day <= until:
            windows = by_weekday[day.weekday()]
            minutes += sum(end - start for start, end in windows)
            minutes -= kpi_off.covered(day, windows, off)
    return minutes


def available_by_provider(
    availability: Iterable[Figures],
    month: str,
    off: Mapping[str, Figures] | None = None,
    zones: Mapping[str, tzinfo] | None = None,
) -> dict[str, int]:
    """Per provider, minutes available in the month over the sites' template documents, less
    their time off (`off`: each provider's off document) in each site's zone (`zones`, by
    site; UTC for a site without one)."""
    found: dict[str, int] = {}
    for doc in availability:
        zone = (zones or {}).get(str(doc.get("site_id")), UTC)
        for provider, templates in dict(doc.get("providers", {})).items():
            walls = kpi_off.off_walls((off or {}).get(provider, {}), zone)
            found[provider] = found.get(provider, 0) + available_minutes(templates, month, walls)
    return found


def _minutes(value: Fraction | None) -> float | None:
    return None if value is None else float(round(value, 1))


def _percent(ratio: Ratio) -> float | None:
    shown = ratio.percent()
    return None if shown is None else float(shown)


def _rate(kpi: str, ratio: Ratio) -> dict[str, Any]:
    return {
        "id": kpi,
        "definition": DEFINITIONS[kpi],
        "unit": "percent",
        "value": _percent(ratio),
        "numerator": ratio.numerator,
        "denominator": ratio.denominator,
    }


def _time(kpi: str, figures: Spread) -> dict[str, Any]:
    total = None if figures.mean is None else figures.mean * figures.count
    return {
        "id": kpi,
        "definition": DEFINITIONS[kpi],
        "unit": "minutes",
        "value": _minutes(figures.median),
        "median": _minutes(figures.median),
        "mean": _minutes(figures.mean),
        "numerator": _minutes(total) if total is not None else 0,
        "denominator": figures.count,
    }


def utilisation(booked: Mapping[str, int], available: Mapping[str, int]) -> dict[str, Any]:
    """Booked over available minutes, per provider with time available (kpis.py), and over
    all of them together as the value."""
    each = {
        provider: Ratio(int(booked.get(provider, 0)), minutes)
        for provider, minutes in sorted(available.items())
        if minutes > 0
    }
    together = Ratio(
        sum(r.numerator for r in each.values()), sum(r.denominator for r in each.values())
    )
    return {
        **_rate("provider_utilisation", together),
        "providers": [
            {
                "provider_id": p,
                "value": _percent(r),
                "numerator": r.numerator,
                "denominator": r.denominator,
            }
            for p, r in each.items()
        ],
    }


def nps_of(counts: Figures) -> dict[str, Any]:
    """NPS of the month's answers (engagement's own surveys), from their bands' counts."""
    promoters, passives, detractors = (
        int(counts.get(k, 0)) for k in ("promoters", "passives", "detractors")
    )
    scores = [10] * promoters + [8] * passives + [0] * detractors
    return {
        "id": "net_promoter_score",
        "definition": DEFINITIONS["net_promoter_score"],
        "unit": "score",
        "value": kpis.net_promoter_score(scores),
        "numerator": promoters - detractors,
        "denominator": promoters + passives + detractors,
    }


def last_day(month: str) -> date:
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, calendar.monthrange(year, number)[1])


def _scope(tenant_wide: bool) -> dict[str, str]:
    """A group's staffing figures are the tenant's, marked so; a site's are the site's."""
    return {"scope": "tenant"} if tenant_wide else {}


def training(months: Iterable[Figures], month: str, *, tenant_wide: bool) -> dict[str, Any]:
    """Assignments due by the month's end completed by their due date, over those due."""
    upto = [m for m in months if str(m.get("month", "")) <= month]
    due = sum(int(m.get("due", 0)) for m in upto)
    on_time = sum(int(m.get("on_time", 0)) for m in upto)
    return {**_rate("training_compliance", Ratio(on_time, due)), **_scope(tenant_wide)}


def credentials(expiring: Mapping[str, int], month: str, *, tenant_wide: bool) -> dict[str, Any]:
    """Credentials expiring within 30, 60 and 90 days after the month's last day."""
    as_of = last_day(month)
    # Only days inside the widest window can count: the others are left out before counting.
    widest = as_of + timedelta(days=90)
    held = [
        kpis.Credential("", "", expires)
        for day, count in expiring.items()
        if as_of < (expires := date.fromisoformat(day)) <= widest
        for _ in range(max(count, 0))
    ]
    windows = kpis.credentials_expiring(held, as_of)
    return {
        "id": "credentials_expiring",
        "definition": DEFINITIONS["credentials_expiring"],
        "unit": "credentials",
        "value": windows[90],
        **_scope(tenant_wide),
        "as_of": as_of.isoformat(),
        "within_days": {str(days): n for days, n in windows.items()},
    }


def months_back(month: str, n: int) -> list[str]:
    """The `n` months ending with `month` ("YYYY-MM"), oldest first."""
    year, number = (int(part) for part in month.split("-"))
    found = []
    for _ in range(n):
        found.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return found[::-1]


def third_next_available(figures: Figures) -> dict[str, Any]:
    """The mean of scheduling's daily measurements in the month (each provider's days to the
    third next open slot), over those that found three slots within the horizon."""
    measured, days = int(figures.get("tna_measured", 0)), int(figures.get("tna_days", 0))
    mean = Decimal(days) / Decimal(measured) if measured else None
    return {
        "id": "third_next_available",
        "definition": DEFINITIONS["third_next_available"],
        "unit": "days",
        "value": None if mean is None else float(mean.quantize(TENTH, rounding=ROUND_HALF_UP)),
        "numerator": days,
        "denominator": measured,
        "beyond_horizon": int(figures.get("tna_beyond", 0)),
    }


def days_in_ar(history: Iterable[Figures], month: str) -> dict[str, Any]:
    """Receivables at the month's end (the receivables moved, `ar_cents`, in every month up
    to it) over the average daily charges of the three months ending with it."""
    window = months_back(month, 3)
    upto = [m for m in history if str(m.get("month", "")) <= month]
    balance = sum(int(m.get("ar_cents", 0)) for m in upto)
    charged = sum(int(m.get("charges_cents", 0)) for m in upto if m.get("month") in window)
    first = date.fromisoformat(f"{window[0]}-01")
    days = (last_day(month) - first).days + 1
    value = kpis.days_in_ar(balance, charged, days)
    return {
        "id": "days_in_ar",
        "definition": DEFINITIONS["days_in_ar"],
        "unit": "days",
        "value": None if value is None else float(value),
        "numerator": balance,
        "denominator": charged,
        "days": days,
        "as_of": last_day(month).isoformat(),
    }


def month_kpis(
    figures: Figures,
    available: Mapping[str, int],
    nps_counts: Figures,
    training_months: Iterable[Figures],
    expiring: Mapping[str, int],
    month: str,
    history: Iterable[Figures],
    *,
    tenant_wide: bool,
) -> list[dict[str, Any]]:
    """Every KPI served for a month, from its sums (a site's, or a group's merged); `history`:
    the same sites' month documents up to the month (days in AR's balance and charges);
    `tenant_wide`: the training and credentials given are the tenant's, not one site's."""

    def count(name: str) -> int:
        return int(figures.get(name, 0))

    kept = count("completed") + count("no_shows")
    return [
        _rate("no_show_rate", Ratio(count("no_shows"), kept)),
        _rate("late_cancellation_rate", Ratio(count("late_cancelled"), count("booked"))),
        _time("wait_time", spread(figures.get("wait", {}))),
        _time("cycle_time", spread(figures.get("cycle", {}))),
        utilisation(figures.get("booked_minutes", {}), available),
        third_next_available(figures),
        nps_of(nps_counts),
        _rate("initial_denial_rate", Ratio(count("denied_first"), count("first_adjudications"))),
        _rate(
            "net_collection_rate",
            kpis.net_collection_rate(
                count("payments_cents"), count("charges_cents"), count("contractual_cents")
            ),
        ),
        days_in_ar(history, month),
        training(training_months, month, tenant_wide=tenant_wide),
        credentials(expiring, month, tenant_wide=tenant_wide),
    ]
