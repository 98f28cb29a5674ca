"""Sites, rooms, providers and visit types, for listing and lookups."""

from __future__ import annotations

from services.scheduling.domain.events import (
    ProviderRegistered,
    RoomAdded,
    SiteRegistered,
    VisitTypeDefined,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.directory"
SITES, ROOMS, PROVIDERS, VISIT_TYPES = "sites", "rooms", "providers", "visit_types"

_KINDS: dict[type[DomainEvent], tuple[str, str]] = {
    SiteRegistered: (SITES, "site_id"),
    RoomAdded: (ROOMS, "room_id"),
    ProviderRegistered: (PROVIDERS, "provider_id"),
    VisitTypeDefined: (VISIT_TYPES, "visit_type_id"),
}


class DirectoryProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (SITES, ROOMS, PROVIDERS, VISIT_TYPES)
    handles = tuple(_KINDS)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        kind = _KINDS.get(type(event))
        if kind is None:
            return
        collection, id_field = kind
        fields = event.model_dump(mode="json")

        def register(_: Document | None) -> Document:
            return {"tenant": envelope.tenant, **fields}

        await view.change(collection, f"{envelope.tenant}:{fields[id_field]}", envelope, register)
