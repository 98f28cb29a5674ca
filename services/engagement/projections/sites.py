"""The sites engagement learns from scheduling's `SiteRegistered`: each site's name and time
zone, which an appointment's messages are planned in (quiet hours, the local time a text
names). Replay-safe: a site registered again is the same document."""

from __future__ import annotations

from services.scheduling.contracts import SiteRegistered
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "engagement.sites"
SITES = "engagement_sites"


def site_id(tenant: str, site: str) -> str:
    return f"{tenant}:{site}"


class SitesProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (SITES,)
    handles: tuple[type[DomainEvent], ...] = (SiteRegistered,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, SiteRegistered):
            return
        seen = event

        def change(doc: Document | None) -> Document:
            doc = doc or {"tenant": envelope.tenant, "site_id": seen.site_id}
            doc.update(name=seen.name, time_zone=seen.time_zone)
            return doc

        await view.change(SITES, site_id(envelope.tenant, event.site_id), envelope, change)
