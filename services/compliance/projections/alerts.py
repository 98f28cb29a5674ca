"""The alerts read model: one document per alert, as raised, acknowledged and resolved.

Queried by tenant with any of site, monitor and status (`open`: raised or acknowledged;
`closed`: resolved), newest first; each of those fields is indexed on MongoDB as it is first
queried (`shared/documents/mongo.py`).
"""

from __future__ import annotations

from typing import Any

from services.compliance.domain.alerts import AlertAcknowledged, AlertRaised, AlertResolved
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "compliance.alerts"
ALERTS = "alerts"

RAISED, ACKNOWLEDGED, RESOLVED = (
    AlertRaised.type_name(),
    AlertAcknowledged.type_name(),
    AlertResolved.type_name(),
)


def doc_id(tenant: str, alert_id: str) -> str:
    return f"{tenant}:{alert_id}"


class AlertsProjection:
    name = PROJECTION
    contexts = ("compliance",)
    collections = (ALERTS,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        """`event` is not looked at: compliance reads its own events as received too."""
        data = envelope.data
        if envelope.type not in (RAISED, ACKNOWLEDGED, RESOLVED):
            return

        def change(doc: Document | None) -> Document | None:
            if envelope.type == RAISED:
                return {
                    "tenant": envelope.tenant,
                    **data,
                    "status": "open",
                    "open": True,
                    "stream_version": envelope.stream_version,
                }
            if doc is None:
                return None  # never for one stream's events, which arrive in order
            updated: dict[str, Any] = {**doc, "stream_version": envelope.stream_version}
            if envelope.type == ACKNOWLEDGED:
                updated.update(
                    status="acknowledged",
                    acknowledged_by=data["acknowledged_by"],
                    acknowledged_at=data["acknowledged_at"],
                    acknowledged_note=data.get("note", ""),
                )
            else:
                updated.update(
                    status="resolved",
                    open=False,
                    resolved_by=data["resolved_by"],
                    resolved_at=data["resolved_at"],
                    resolution=data["note"],
                )
            return updated

        await view.change(ALERTS, doc_id(envelope.tenant, data["alert_id"]), envelope, change)
