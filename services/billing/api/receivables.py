"""Receivables over HTTP: balances and aging as of any date (issue 13).

`biller`, `admin` and `auditor` read every site's; a `manager` reads their sites' only (a site
of another is a 403; without `site`, the answer holds their sites alone); front desk and
clinicians see none. `as_of` is a calendar date (YYYY-MM-DD, default today in UTC): the answer
holds what was recorded up to the end of that day, midnight UTC. Reads take `after_stream` and
`after_version` (any billing stream of the caller's tenant). `GET /billing/kpis` gives a
site's revenue-cycle KPIs for a month (docs/kpis.md) to wait until they include that
change. An answer by patient discloses those patients (billing's `PatientRecordAccessed`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from services.billing.application.receivables import Kpis, Receivables, month_bounds
from services.billing.projections import receivables as view
from shared.access import record_disclosure
from shared.clock import Clock
from shared.http.identity import Principal, policy
from shared.http.routes import AfterStream, AfterVersion, PlausibleDay, read_after, written
from shared.readmodels import ReadModels
from shared.usecases import Disclosures

Readers = policy("biller", "manager", "auditor", site_scoped=True)
TENANT_WIDE = frozenset({"biller", "auditor", "admin"})

Site = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
AsOf = Annotated[PlausibleDay | None, Query(description="YYYY-MM-DD; default: today (UTC)")]
Month = Annotated[
    str, Query(pattern=r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM, 1900-2199")
]
By = Annotated[Literal["patient", "payer", "site", "provider"], Query()]


def _sites(who: Principal, site: str | None) -> list[str] | None:
    """The sites the answer holds (None: every site)."""
    sites = None if set(who.roles) & TENANT_WIDE or who.sites == "*" else list(who.sites)
    if site is not None:
        if sites is not None and site not in sites:
            raise HTTPException(403, f"You do not work at site {site}")
        return [site]
    return sites


@dataclass(frozen=True)
class Asked:
    """What a receivables read asks: as of which day, by which owner, over which sites (None:
    every site), for whom."""

    who: Principal
    day: date
    by: Literal["patient", "payer", "site", "provider"]
    sites: list[str] | None


def build_router(
    receivables: Receivables,
    disclosures: Disclosures,
    head: Callable[[str], Awaitable[int]],
    read_models: ReadModels,
    clock: Clock,
    wait_timeout: float,
) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["receivables"])

    async def wait(who: Principal, after_stream: str | None, after_version: int | None) -> None:
        after = written(after_stream, after_version)
        if after is None:
            return
        stream, version = after
        if stream.partition(":")[0] != who.tenant:
            raise HTTPException(400, "after_stream names no billing stream of yours")
        await read_after(
            read_models,
            view.PROJECTION,
            view.SOURCES,
            view.doc_id(who.tenant, stream),
            stream,
            version,
            wait_timeout,
            head,
        )

    async def asked(
        as_of: AsOf = None,
        by: By = "payer",
        site: Site = None,
        after_stream: AfterStream = None,
        after_version: AfterVersion = None,
        who: Principal = Readers,
    ) -> Asked:
        """The query every receivables read takes (`as_of`, `by`, `site`, read-your-writes):
        the caller's sites checked (403), their write waited for."""
        sites = _sites(who, site)
        await wait(who, after_stream, after_version)
        return Asked(who, as_of or clock.now().date(), by, sites)

    Asking = Depends(asked)

    @router.get("/receivables")
    async def balances(request: Request, q: Asked = Asking) -> dict[str, Any]:
        """Balances per owner as of the end of a day (UTC)."""
        answer = await receivables.balances(q.who.tenant, q.day, q.by, q.sites)
        if q.by == "patient":
            ids = [row["owner"] for row in answer["balances"] if row["owner"]]
            await record_disclosure(disclosures, request, q.who, ids)
        return answer

    @router.get("/receivables/aging")
    async def aging(request: Request, q: Asked = Asking) -> dict[str, Any]:
        """Totals per aging bucket (days from the date of service), and per owner."""
        answer = await receivables.aging(q.who.tenant, q.day, q.by, q.sites)
        if q.by == "patient":
            await record_disclosure(disclosures, request, q.who, list(answer.owners))
        return answer.out()

    kpis = Kpis(read_models, receivables)

    @router.get("/kpis")
    async def kpis_of(
        site: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        month: Month,
        after_stream: AfterStream = None,
        after_version: AfterVersion = None,
        who: Principal = Readers,
    ) -> dict[str, Any]:
        """Days in AR, net collection rate, first-pass resolution and denial rates, AR over
        90 (and 120) days, average payment lag, for one site and month (docs/kpis.md)."""
        _sites(who, site)
        try:
            month_bounds(month)
        except ValueError:
            raise HTTPException(422, f"{month} is not a month (YYYY-MM)") from None
        await wait(who, after_stream, after_version)
        return await kpis.of(who.tenant, site, month)

    return router
