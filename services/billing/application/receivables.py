"""Receivables as of any date: balances by owner and aging buckets (issue 13).

Reads only the receivables read model (`projections/receivables.py`): the entries recorded up
to the end of the day asked for (midnight UTC after it), summed. Buckets count the days from a
line's date of service to the as-of date: 0-30, 31-60, 61-90, 91-120, over 120.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from services.billing.projections import receivables as view
from shared.readmodels import ReadModels

By = Literal["patient", "payer", "site", "provider"]
BUCKETS = ("0-30", "31-60", "61-90", "91-120", "over-120")


def bucket_of(date_of_service: date, as_of: date) -> str:
    days = (as_of - date_of_service).days
    if days <= 30:
        return BUCKETS[0]
    if days <= 60:
        return BUCKETS[1]
    if days <= 90:
        return BUCKETS[2]
    if days <= 120:
        return BUCKETS[3]
    return BUCKETS[4]


def owner_key(line: dict[str, Any], by: By) -> str:
    """Whom a line counts for: a payer's lines by payer, a patient's by patient ("patient"
    as the payer of the patient's side); site and provider as recorded."""
    match by:
        case "payer":
            return str(line["owner_id"]) if line["owner"] == view.PAYER else "patient"
        case "patient":
            return str(line["patient_id"])
        case "site":
            return str(line["site_id"])
        case "provider":
            return str(line["provider_id"])


@dataclass
class Aging:
    as_of: date
    total_cents: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    owners: dict[str, dict[str, int]] = field(default_factory=dict)

    def out(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "total_cents": self.total_cents,
            "buckets": self.buckets,
            "owners": [
                {"owner": owner, "total_cents": sum(b.values()), "buckets": b}
                for owner, b in sorted(self.owners.items())
            ],
        }


class Receivables:
    def __init__(self, read_models: ReadModels) -> None:
        self._read_models = read_models

    async def lines(
        self, tenant: str, as_of: date, sites: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """Every receivable line recorded up to the end of `as_of` (UTC), of these sites."""
        entries = await self._read_models.find(
            view.PROJECTION,
            view.ENTRIES,
            {"tenant": tenant, "at": {"$lt": view.day_end(as_of)}},
        )
        found = [line for entry in entries for line in entry["lines"]]
        if sites is not None:
            found = [line for line in found if line["site_id"] in sites]
        return found

    async def balances(
        self, tenant: str, as_of: date, by: By, sites: Collection[str] | None = None
    ) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for line in await self.lines(tenant, as_of, sites):
            key = owner_key(line, by)
            totals[key] = totals.get(key, 0) + int(line["amount_cents"])
        rows = [{"owner": k, "balance_cents": v} for k, v in sorted(totals.items()) if v]
        return {
            "as_of": as_of.isoformat(),
            "by": by,
            "total_cents": sum(totals.values()),
            "balances": rows,
        }

    async def aging(
        self,
        tenant: str,
        as_of: date,
        by: By = "payer",
        sites: Collection[str] | None = None,
    ) -> Aging:
        aging = Aging(as_of)
        for line in await self.lines(tenant, as_of, sites):
            amount = int(line["amount_cents"])
            if not amount:
                continue
            bucket = bucket_of(date.fromisoformat(str(line["date_of_service"])), as_of)
            aging.total_cents += amount
            aging.buckets[bucket] += amount
            owner = aging.owners.setdefault(owner_key(line, by), dict.fromkeys(BUCKETS, 0))
            owner[bucket] += amount
        aging.owners = {k: v for k, v in aging.owners.items() if any(v.values())}
        return aging

    async def current(self, tenant: str, key: str) -> int:
        """A current balance kept incrementally: key "payer:<id>", "patient:<id>" (the
        patient's own side), "patient-of:<id>" (both sides), "site:<id>", "provider:<id>"."""
        doc = await self._read_models.get(view.PROJECTION, view.BALANCES, view.doc_id(tenant, key))
        return 0 if doc is None else int(doc["cents"])


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of a month "YYYY-MM" (ValueError if it is not one)."""
    first = date.fromisoformat(f"{month}-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _months_back(month: str, n: int) -> list[str]:
    first, _ = month_bounds(month)
    out = []
    year, number = first.year, first.month
    for _ in range(n):
        out.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return out


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return None if whole == 0 else round(part / whole, digits)


class Kpis:
    """Revenue-cycle KPIs per site and month (docs/kpis.md has the definitions)."""

    def __init__(self, read_models: ReadModels, receivables: Receivables) -> None:
        self._read_models = read_models
        self._receivables = receivables

    async def _counters(self, tenant: str, site: str, month: str) -> dict[str, int]:
        doc = await self._read_models.get(
            view.PROJECTION, view.KPIS, view.doc_id(tenant, f"{site}:{month}")
        )
        return {k: int(v) for k, v in (doc or {}).items() if isinstance(v, int) and k != "_rev"}

    async def of(self, tenant: str, site: str, month: str) -> dict[str, Any]:
        first, last = month_bounds(month)
        counts = await self._counters(tenant, site, month)
        aging = await self._receivables.aging(tenant, last, "payer", [site])
        quarter = [await self._counters(tenant, site, m) for m in _months_back(month, 3)]
        charged = sum(c.get("charges_cents", 0) for c in quarter)
        days = (last - month_bounds(_months_back(month, 3)[-1])[0]).days + 1
        over_90 = aging.buckets["91-120"] + aging.buckets["over-120"]
        net = counts.get("charges_cents", 0) - counts.get("contractual_cents", 0)
        first_adjudications = counts.get("first_adjudications", 0)
        lag = counts.get("lag_count", 0)
        return {
            "site_id": site,
            "month": month,
            "ar_cents": aging.total_cents,
            "days_in_ar": None if charged == 0 else round(aging.total_cents / (charged / days), 1),
            "net_collection_rate": _ratio(counts.get("payments_cents", 0), net),
            "first_pass_resolution_rate": _ratio(counts.get("clean_first", 0), first_adjudications),
            "denial_rate": _ratio(counts.get("denied_first", 0), first_adjudications),
            "ar_over_90_share": _ratio(over_90, aging.total_cents),
            "ar_over_120_share": _ratio(aging.buckets["over-120"], aging.total_cents),
            "average_payment_lag_days": None
            if lag == 0
            else round(counts.get("lag_days", 0) / lag, 1),
            "counts": {
                "charges_cents": counts.get("charges_cents", 0),
                "payments_cents": counts.get("payments_cents", 0),
                "contractual_cents": counts.get("contractual_cents", 0),
                "first_adjudications": first_adjudications,
                "denied_first": counts.get("denied_first", 0),
                "clean_first": counts.get("clean_first", 0),
                "charges_last_3_months_cents": charged,
            },
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
        }
