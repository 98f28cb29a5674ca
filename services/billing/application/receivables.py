"""Receivables as of any date: balances by owner and aging buckets (issue 13).

Reads only the receivables read model (`projections/receivables.py`): the entries recorded up
to the end of the day asked for (midnight UTC after it), summed. Buckets count the days from a
line's date of service to the as-of date: 0-30, 31-60, 61-90, 91-120, over 120.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
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
