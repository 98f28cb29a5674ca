"""Alert use cases: raise what a monitor found (once), acknowledge, resolve, and the reads.

Raising decides on the alert's own stream, whose id the finding fixes (`domain/alerts.py`):
the first raise appends at "no stream" (expected version 0); a second, from a timer run again or
from another process, either loads the alert and records nothing, or loses the append to the
first (a conflict) and, loading again, records nothing. So each alert is raised once, whatever
the number of processes and restarts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from services.compliance.domain.alerts import (
    AcknowledgeAlert,
    AlertRaised,
    Finding,
    ResolveAlert,
    alert,
    alert_stream,
    raise_command,
)
from services.compliance.projections.alerts import ALERTS, PROJECTION, doc_id
from shared.commands import CommandHandler, Outcome
from shared.documents.port import Document
from shared.events import Metadata
from shared.readmodels import ReadModels, public
from shared.usecases import UseCases

log = structlog.get_logger(__name__)

SYSTEM = "system:compliance.monitors"


class Alerts(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    async def raise_alert(self, finding: Finding) -> bool:
        """Raise the alert of this finding unless it is raised already; True when this call
        raised it."""
        meta = Metadata(
            tenant=finding.tenant,
            actor=SYSTEM,
            site=finding.site,
            correlation_id=f"monitor:{finding.monitor}:{finding.alert_id}",
        )
        command = raise_command(finding, self.now())
        stream = alert_stream(finding.tenant, finding.alert_id)
        outcome = await self.decide(stream, alert, command, meta, subject=finding.alert_id)
        raised = any(isinstance(e, AlertRaised) for e in outcome.events)
        if raised:
            log.info(
                "compliance_alert_raised",
                tenant=finding.tenant,
                alert_id=finding.alert_id,
                monitor=finding.monitor,
            )
        return raised

    async def acknowledge(
        self, meta: Metadata, alert_id: str, note: str, within: Sequence[str] | None = None
    ) -> Outcome[Any]:
        """`within`: the caller's sites, when not every site (an alert of another: 404)."""
        command = AcknowledgeAlert(
            alert_id=alert_id,
            by=meta.actor or "",
            at=self.now(),
            note=note,
            within=None if within is None else tuple(within),
        )
        stream = alert_stream(meta.tenant, alert_id)
        return await self.decide(stream, alert, command, meta, subject=alert_id)

    async def resolve(
        self, meta: Metadata, alert_id: str, note: str, within: Sequence[str] | None = None
    ) -> Outcome[Any]:
        command = ResolveAlert(
            alert_id=alert_id,
            by=meta.actor or "",
            at=self.now(),
            note=note,
            within=None if within is None else tuple(within),
        )
        stream = alert_stream(meta.tenant, alert_id)
        return await self.decide(stream, alert, command, meta, subject=alert_id)

    # ------------------------------------------------------------------------------- reads

    async def find(
        self,
        tenant: str,
        *,
        sites: list[str] | None = None,
        monitor: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        return await find_alerts(
            self._read_models, tenant, sites=sites, monitor=monitor, status=status, limit=limit
        )

    async def get(self, tenant: str, alert_id: str) -> Document | None:
        return await self._read_models.get(PROJECTION, ALERTS, doc_id(tenant, alert_id))


async def find_alerts(
    read_models: ReadModels,
    tenant: str,
    *,
    sites: list[str] | None = None,
    monitor: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Alerts of the tenant, newest first. `sites`: only those about one of them; `status`:
    `open` (raised or acknowledged) or `closed` (resolved)."""
    where = alerts_where(tenant, sites=sites, monitor=monitor, status=status)
    docs = await read_models.find(PROJECTION, ALERTS, where, sort=NEWEST_FIRST, limit=limit)
    return [d for d in (public(doc) for doc in docs) if d is not None]


NEWEST_FIRST = [("raised_at", -1), ("alert_id", 1)]


def alerts_where(
    tenant: str,
    *,
    sites: list[str] | None = None,
    monitor: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """The alerts list's filter (each field of it indexed on MongoDB)."""
    where: dict[str, Any] = {"tenant": tenant}
    if sites is not None:
        where["site"] = {"$in": sites}
    if monitor is not None:
        where["monitor"] = monitor
    if status is not None:
        where["open"] = status == "open"
    return where
