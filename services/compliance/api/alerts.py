"""Compliance HTTP API: the alerts the monitors raise.

Who: the compliance officer (`compliance`) acknowledges and resolves them, with a note; auditors
and compliance officers read every alert of their tenant; an admin reads and manages those of
the sites their token names (all with `sites: "*"`), and alerts about no site (a reader, the
ledger) only when tenant-wide (another site's alert: 404, as if it were not there).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.compliance.application.alerts import Alerts
from services.compliance.domain.alerts import alert_stream
from services.compliance.projections.alerts import ALERTS, PROJECTION, doc_id
from shared.http.app import metadata
from shared.http.identity import ALL_SITES, Principal, policy
from shared.http.routes import AfterVersion, Body, Id, Recorded, read_after, recorded
from shared.readmodels import ReadModels, public

Read = policy("auditor", "compliance", site_scoped=True)  # and admin, at its sites
Manage = policy("compliance", changes_state=True)  # and admin

Monitor = Annotated[str | None, Query(pattern=r"^[a-z][a-z_]{0,59}$")]
Site = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class AcknowledgementIn(Body):
    note: Annotated[str, Field(max_length=2000)] = ""


class ResolutionIn(Body):
    note: Annotated[str, Field(min_length=1, max_length=2000)]


def tenant_wide(who: Principal) -> bool:
    return bool({"auditor", "compliance"} & set(who.roles)) or who.sites == ALL_SITES


def within(who: Principal) -> list[str] | None:
    """The sites whose alerts the caller manages: every site for a tenant-wide caller."""
    return None if tenant_wide(who) or not isinstance(who.sites, list) else list(who.sites)


def build_router(alerts: Alerts, read_models: ReadModels, wait_timeout: float) -> APIRouter:
    router = APIRouter(prefix="/compliance/alerts", tags=["compliance"])

    async def after(tenant: str, alert_id: str, version: int | None) -> None:
        if version is not None:
            stream = alert_stream(tenant, alert_id)
            await read_after(
                read_models, PROJECTION, ALERTS, doc_id(tenant, alert_id), stream, version,
                wait_timeout, alerts.stream_version,
            )  # fmt: skip

    def visible(who: Principal, doc: dict[str, Any]) -> bool:
        return tenant_wide(who) or (doc.get("site") is not None and who.at_site(doc["site"]))

    @router.get("")
    async def list_alerts(
        who: Principal = Read,
        site: Site = None,
        monitor: Monitor = None,
        status: Literal["open", "closed"] | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """The tenant's alerts, newest first: of one site, one monitor, open (raised or
        acknowledged) or closed (resolved)."""
        sites: list[str] | None = None
        if site is not None:
            if not tenant_wide(who) and not who.at_site(site):
                raise HTTPException(403, f"Your token does not name site {site}")
            sites = [site]
        elif not tenant_wide(who) and isinstance(who.sites, list):
            sites = list(who.sites)
        return await alerts.find(
            who.tenant, sites=sites, monitor=monitor, status=status, limit=limit
        )

    @router.get("/{alert_id}")
    async def get_alert(
        alert_id: Id, who: Principal = Read, after_version: AfterVersion = None
    ) -> dict[str, Any]:
        """One alert; `after_version` (as an acknowledgement or resolution answered) waits
        for that change to be read."""
        await after(who.tenant, alert_id, after_version)
        doc = public(await alerts.get(who.tenant, alert_id))
        if doc is None or not visible(who, doc):
            raise HTTPException(404, f"alert {alert_id} not found")
        return doc

    @router.post("/{alert_id}/acknowledgement", status_code=201)
    async def acknowledge(
        request: Request, alert_id: Id, body: AcknowledgementIn, who: Principal = Manage
    ) -> Recorded:
        """Someone is on it. Unknown alert: 404; resolved already: 409; twice: no change."""
        outcome = await alerts.acknowledge(metadata(request, who), alert_id, body.note, within(who))
        return recorded(alert_id, outcome)

    @router.post("/{alert_id}/resolution", status_code=201)
    async def resolve(
        request: Request, alert_id: Id, body: ResolutionIn, who: Principal = Manage
    ) -> Recorded:
        """Closed, with a note of what was found and done (a blank note: 422). Unknown
        alert: 404; resolved already: 409."""
        outcome = await alerts.resolve(metadata(request, who), alert_id, body.note, within(who))
        return recorded(alert_id, outcome)

    return router
