"""What finance reads from its read models: vendors, invoices, AP aging and the month's
reports (P&L, budget versus actual, cash collected, cost per visit) as of any day.

As of a day, a posting counts when it was recorded on or before it, and an invoice when it
was received on or before it and neither voided nor rejected by then (its business dates).
The month's figures are read from the ledger's sums per recording day (a range of ids each,
see projections/ledger.py), not from its postings, invoices and visits one by one. Budgets are
the approved versions, folded from the event store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from services.finance.application.accounts import Accounts
from services.finance.domain import streams
from services.finance.domain.aging import BUCKETS, bucket
from services.finance.domain.budgets import budget, fiscal_months
from services.finance.domain.reports import (
    Row,
    budget_versus_actual,
    cost_per_visit,
    profit_and_loss,
)
from services.finance.projections.ledger import (
    CLOSINGS,
    EXPENSE,
    INVOICES,
    PROJECTION,
    REVENUE_BY_POSTING,
    REVENUE_BY_SERVICE,
    SUMS,
    VENDORS,
    VISIT_COUNT,
    WRITE_OFF_BY_POSTING,
    WRITE_OFF_BY_SERVICE,
    closed_after,
    sum_range,
)
from shared.readmodels import ReadModels, public

Basis = Literal["posting", "service"]  # revenue by posting day, or by date of service


def _on(doc: dict[str, Any], field: str, as_of: date) -> bool:
    value = doc.get(field)
    return value is not None and value <= as_of.isoformat()


def _owed(doc: dict[str, Any], as_of: date) -> bool:
    return _on(doc, "received_on", as_of) and not any(
        _on(doc, field, as_of) for field in ("paid_on", "voided_on", "rejected_on")
    )


class Reports:
    def __init__(self, read_models: ReadModels, accounts: Accounts) -> None:
        self._read_models = read_models
        self._accounts = accounts

    async def vendor(self, tenant: str, vendor_id: str) -> dict[str, Any] | None:
        return public(await self._read_models.get(PROJECTION, VENDORS, f"{tenant}:{vendor_id}"))

    async def invoice(self, tenant: str, invoice_id: str) -> dict[str, Any] | None:
        return public(await self._read_models.get(PROJECTION, INVOICES, f"{tenant}:{invoice_id}"))

    async def vendors(self, tenant: str, limit: int, after: str | None) -> list[dict[str, Any]]:
        """A page of the tenant's vendors in vendor id order, after the vendor `after`."""
        return await self._page(VENDORS, tenant, limit, after, lambda _: True)

    async def invoices(
        self, tenant: str, limit: int, after: str | None, keep: Callable[[dict[str, Any]], bool]
    ) -> list[dict[str, Any]]:
        """A page of the tenant's invoices `keep` says, in invoice id order, after `after`:
        read a page at a time by id until `limit` are kept, so that a page is full."""
        return await self._page(INVOICES, tenant, limit, after, keep)

    async def _page(
        self,
        collection: str,
        tenant: str,
        limit: int,
        after: str | None,
        keep: Callable[[dict[str, Any]], bool],
    ) -> list[dict[str, Any]]:
        page: list[dict[str, Any]] = []
        start = f"{tenant}:{after}" if after is not None else f"{tenant}:"
        while len(page) < limit:
            # The tenant's ids are a range (";" follows ":"): the primary key on every store.
            where = {"_id": {"$gt": start, "$lt": f"{tenant};"}}
            found = await self._read_models.find(
                PROJECTION, collection, where, sort=[("_id", 1)], limit=limit
            )
            page += [public(d) or {} for d in found if keep(d)][: limit - len(page)]
            if len(found) < limit:
                break
            start = str(found[-1]["_id"])
        return page

    async def ap_aging(self, tenant: str, as_of: date, sites: list[str] | None) -> dict[str, Any]:
        """What is owed as of the day, by how long past due; `sites`: only invoices coded to
        one of them (None: all)."""
        docs = await self._owed_or_closed_after(tenant, as_of)
        totals = dict.fromkeys(BUCKETS, 0)
        owed = []
        for doc in docs:
            if not _owed(doc, as_of) or (
                sites is not None and not set(doc["site_ids"]) & set(sites)
            ):
                continue
            days = (as_of - date.fromisoformat(doc["due_on"])).days
            where = bucket(days)
            totals[where] += doc["total_cents"]
            owed.append(
                {
                    "vendor_id": doc["vendor_id"],
                    "invoice_id": doc["invoice_id"],
                    "due_on": doc["due_on"],
                    "amount_cents": doc["total_cents"],
                    "days_past_due": max(days, 0),
                    "bucket": where,
                }
            )
        owed.sort(key=lambda o: (o["due_on"], o["vendor_id"], o["invoice_id"]))
        return {
            "as_of": as_of.isoformat(),
            "buckets": totals,
            "total_cents": sum(totals.values()),
            "invoices": owed,
        }

    async def _owed_or_closed_after(self, tenant: str, as_of: date) -> list[dict[str, Any]]:
        """The invoices that may be owed as of the day: open now (an equality index), or
        paid, voided or rejected after it (a range of the closings' ids)."""
        docs = await self._read_models.find(PROJECTION, INVOICES, {"owing": tenant})
        closings = await self._read_models.find(PROJECTION, CLOSINGS, closed_after(tenant, as_of))
        later = {c["invoice_id"] for c in closings} - {d["invoice_id"] for d in docs}
        if later:
            collection = await self._read_models.collection(PROJECTION, INVOICES)
            ids = sorted(f"{tenant}:{invoice}" for invoice in later)
            found = await self._read_models.store.get_many(collection, ids)
            docs += [found[i] for i in ids if i in found]
        return docs

    # ------------------------------------------------------------------------- actuals

    async def _sums(self, tenant: str, kind: str, month: date, as_of: date) -> list[Row]:
        """The month's sums of a kind recorded on or before `as_of`, by site and account (an
        account whose amounts add up to nothing has no row)."""
        docs = await self._read_models.find(PROJECTION, SUMS, sum_range(tenant, kind, month, as_of))
        totals: dict[tuple[str, str], int] = {}
        for doc in docs:
            key = (doc["site_id"], doc["account_code"])
            totals[key] = totals.get(key, 0) + int(doc["amount"])
        return [Row(site, month, code, cents) for (site, code), cents in totals.items() if cents]

    async def _revenue(self, tenant: str, month: date, as_of: date, basis: Basis) -> list[Row]:
        """The month's revenue by posting day, or by date of service."""
        kind = REVENUE_BY_POSTING if basis == "posting" else REVENUE_BY_SERVICE
        return await self._sums(tenant, kind, month, as_of)

    async def _written_off(self, tenant: str, month: date, as_of: date, basis: Basis) -> list[Row]:
        """The month's write-offs (negative), kept apart from revenue: not cash."""
        kind = WRITE_OFF_BY_POSTING if basis == "posting" else WRITE_OFF_BY_SERVICE
        return await self._sums(tenant, kind, month, as_of)

    async def _expenses(self, tenant: str, month: date, as_of: date) -> list[Row]:
        """The month's payroll journals and invoices (by invoice date)."""
        return await self._sums(tenant, EXPENSE, month, as_of)

    async def _visits(self, tenant: str, month: date, as_of: date, site: str | None) -> int:
        rows = await self._sums(tenant, VISIT_COUNT, month, as_of)
        return sum(r.amount_cents for r in rows if site is None or r.site_id == site)

    async def _budget(self, tenant: str, month: date, sites: list[str]) -> list[Row]:
        """The approved budgets' lines for the month, of the fiscal year it falls in (a
        fiscal year is named by the calendar year it ends in: this one or the next)."""
        rows: list[Row] = []
        for site in sites:
            for year in (month.year, month.year + 1):
                found = await self._accounts.state(streams.budget(tenant, site, year), budget)
                if not found.exists or month not in fiscal_months(year, found.first_month):
                    continue
                approved = found.approved
                if approved is not None:
                    rows += [
                        Row(site, line.month, line.account_code, line.amount_cents)
                        for line in approved.lines
                        if line.month == month
                    ]
        return rows

    # ------------------------------------------------------------------------- reports

    async def month(
        self, tenant: str, month: date, site_id: str | None, as_of: date, basis: Basis = "posting"
    ) -> dict[str, Any]:
        """The month's P&L, budget versus actual, cash collected and cost per visit; revenue
        by posting day (`basis` "posting") or by date of service ("service")."""
        chart = await self._accounts.shown(tenant)
        revenue = await self._revenue(tenant, month, as_of, basis)
        expenses = await self._expenses(tenant, month, as_of)
        sites = [site_id] if site_id is not None else [c.site_id for c in chart.cost_centres]
        pnl = profit_and_loss(chart, revenue, expenses, month, site_id)
        bva = budget_versus_actual(
            chart, [*revenue, *expenses], await self._budget(tenant, month, sites), month, site_id
        )
        visits = await self._visits(tenant, month, as_of, site_id)
        collected = sum(r.amount_cents for r in revenue if site_id in (None, r.site_id))
        written_off = await self._written_off(tenant, month, as_of, basis)
        variances = [*bva.lines, bva.total("revenue"), bva.total("expense"), bva.net_income]
        return {
            "month": month.isoformat()[:7],
            "site_id": site_id,
            "as_of": as_of.isoformat(),
            "revenue_basis": basis,
            "profit_and_loss": {
                "revenue": [vars(line) for line in pnl.revenue],
                "expenses": [vars(line) for line in pnl.expenses],
                "revenue_cents": pnl.revenue_cents,
                "expenses_cents": pnl.expenses_cents,
                "net_income_cents": pnl.net_income_cents,
            },
            "budget_versus_actual": [
                {
                    "account_code": v.account_code,
                    "name": v.name,
                    "kind": v.kind,
                    "budget_cents": v.budget_cents,
                    "actual_cents": v.actual_cents,
                    "variance_cents": v.variance_cents,
                    "variance_pct": None if v.variance_pct is None else float(v.variance_pct),
                    "favourable": v.favourable,
                }
                for v in variances
            ],
            "cash_collected_cents": collected,
            # Balances given up (claims', patients'), positive: not cash, not in revenue.
            "written_off_cents": -sum(
                r.amount_cents for r in written_off if site_id in (None, r.site_id)
            ),
            "visits": visits,
            "cost_per_visit_cents": cost_per_visit(pnl.expenses_cents, visits),
        }
