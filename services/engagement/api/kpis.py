"""The office KPIs over HTTP: a month's KPIs at a site, or over the caller's sites together
(the whole group for a manager of every site), read from the KPI projection's sums: the
site's (or tenant's) month documents up to the month asked, never the visits. Managers, auditors and
admins read; site-scoped. docs/kpis.md defines each KPI under its `definition` id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query

from services.engagement.domain import kpi_figures, kpi_staff
from services.engagement.projections import kpis as projection
from services.engagement.projections import nps
from shared.documents.port import Document
from shared.http.identity import Principal, policy
from shared.http.routes import check_site
from shared.readmodels import ReadModels

Managers = policy("manager", "auditor", site_scoped=True)
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Site = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class KpiReader:
    """A month's KPIs for a site or for every site a caller may see."""

    def __init__(self, read_models: ReadModels) -> None:
        self._read = read_models

    async def _find(self, collection: str, where: dict[str, Any]) -> list[Document]:
        return await self._read.find(projection.PROJECTION, collection, where)

    async def _get(self, collection: str, doc_id: str) -> Document | None:
        return await self._read.get(projection.PROJECTION, collection, doc_id)

    async def _each(self, name: str, collection: str, ids: Sequence[str]) -> list[Document]:
        found = [await self._read.get(name, collection, doc_id) for doc_id in ids]
        return [doc for doc in found if doc is not None]

    async def month(self, who: Principal, site: str | None, month: str) -> dict[str, Any]:
        [answer] = await self.months(who, site, [month])
        return answer

    async def months(
        self, who: Principal, site: str | None, months: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Each month's answer: a site's documents read by id or by a range of ids, a group's
        with one query per collection for all the months."""
        tenant = who.tenant
        # The months up to the last asked for, in one query: days in AR sums the receivables
        # moved in every month up to each. A range of ids (the primary key on every store).
        where: dict[str, Any] = {
            "tenant": tenant,
            "month": {"$lte": max(months)},
            "_id": {"$gt": f"{tenant}:", "$lt": f"{tenant};"},
        }
        if site is not None:
            last = projection.month_id(tenant, site, max(months))
            where |= {"site_id": site, "_id": {"$gte": f"{tenant}:{site}:", "$lte": last}}
            scores = await self._each(
                nps.PROJECTION, nps.NPS, [nps.site_doc_id(tenant, site, m) for m in months]
            )
            availability = await self._each(
                projection.PROJECTION,
                projection.AVAILABILITY,
                [projection.availability_id(tenant, site)],
            )
        else:
            asked = {"tenant": tenant, "month": {"$in": list(months)}}
            scores = await self._read.find(nps.PROJECTION, nps.NPS, {**asked, "kind": "site"})
            availability = await self._find(projection.AVAILABILITY, {"tenant": tenant})
        off = {str(d["provider_id"]): d for d in availability if d.get("kind") == "off"}
        availability = [d for d in availability if d.get("kind") != "off"]
        if site is not None:
            off = await self._off(tenant, availability)
        history = [d for d in await self._find(projection.MONTHS, where) if _seen_by(who, d)]
        figures = [d for d in history if d["month"] in months]
        training, held = await self._staff(tenant, site)
        expiring = dict((held or {}).get("expiring", {}))
        availability = [d for d in availability if who.at_site(str(d["site_id"]))]
        templated = [d for d in availability if d.get("providers")]
        sums, answered = _by_month(who, figures, months), _by_month(who, scores, months)
        answers = []
        for month in months:
            docs = [*sums[month], *answered[month], *templated]
            answers.append(
                {
                    "month": month,
                    "site": site,
                    "sites": sorted({str(d["site_id"]) for d in docs}),
                    "kpis": kpi_figures.month_kpis(
                        kpi_figures.merged(sums[month]),
                        kpi_figures.available_by_provider(
                            availability, month, off, _zones(availability)
                        ),
                        kpi_figures.merged(answered[month]),
                        training,
                        expiring,
                        month,
                        history,
                        tenant_wide=site is None,
                    ),
                    "not_served": [
                        {"id": kpi, "definition": kpi_figures.DEFINITIONS[kpi], "why": why}
                        for kpi, why in kpi_figures.NOT_SERVED.items()
                    ],
                }
            )
        return answers

    async def _off(self, tenant: str, availability: Sequence[Document]) -> dict[str, Document]:
        """The time off of the providers with a template at the site, by provider."""
        providers = sorted({p for d in availability for p in d.get("providers", {})})
        ids = [projection.off_id(tenant, p) for p in providers]
        found = await self._each(projection.PROJECTION, projection.AVAILABILITY, ids)
        return {str(d["provider_id"]): d for d in found}

    async def _staff(self, tenant: str, site: str | None) -> tuple[list[Document], Document | None]:
        """Training's month documents and the credentials' document: the site's, or over
        a group the tenant's (each assignment and credential once, whatever its sites)."""
        if site is None:
            training = await self._find(projection.GROUP, {"tenant": tenant, "kind": "training"})
            return training, await self._get(projection.GROUP, kpi_staff.credentials_id(tenant))
        where = {"tenant": tenant, "kind": "site-training", "site_id": site}
        training = await self._find(projection.GROUP, where)
        held = await self._get(projection.GROUP, kpi_staff.site_credentials_id(tenant, site))
        return training, held


def _zones(availability: Sequence[Document]) -> dict[str, tzinfo]:
    """Each site's zone as `SiteRegistered` named it (UTC while not seen, or not known here)."""
    zones: dict[str, tzinfo] = {}
    for doc in availability:
        try:
            zones[str(doc["site_id"])] = ZoneInfo(str(doc.get("time_zone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            zones[str(doc["site_id"])] = UTC
    return zones


def _seen_by(who: Principal, doc: Document) -> bool:
    return who.at_site(str(doc["site_id"]))


def _by_month(
    who: Principal, docs: Sequence[Document], months: Sequence[str]
) -> dict[str, list[Document]]:
    """The documents at the caller's sites, by their month."""
    found: dict[str, list[Document]] = {month: [] for month in months}
    for doc in docs:
        if who.at_site(str(doc["site_id"])):
            found[str(doc["month"])].append(doc)
    return found


def build_router(reader: KpiReader) -> APIRouter:
    router = APIRouter(prefix="/engagement", tags=["kpis"])

    @router.get("/kpis")
    async def office_kpis(
        month: Month, who: Principal = Managers, site: Site = None
    ) -> dict[str, Any]:
        """The month's (YYYY-MM) office KPIs at `site`, or over the caller's sites together:
        each with its value, numerator and denominator and its definition's id (docs/kpis.md);
        the KPIs not served say why."""
        if site is not None:
            check_site(who, site)
        return await reader.month(who, site, month)

    return router
