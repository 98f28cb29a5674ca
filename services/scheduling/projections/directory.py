"""Sites, rooms, providers and visit types, for listing and lookups.

A provider's document is their registration, with what staffing told since: a rehire or job
change (its role, and its sites added to the ones listed: a site's front desk sees everyone
who works or will work there; bookings check the day), their NPI, taxonomy and specialty, and
the ids of the licences scheduling learnt (`licence_ids`: who hires a provider through staffing
waits on them before booking). A licence may reach scheduling before the hire (staffing records
them on different streams): it waits in a document with no tenant, which no listing finds,
until the registration completes it.
"""

from __future__ import annotations

from services.scheduling.domain.events import (
    ProviderIdentified,
    ProviderJobChanged,
    ProviderLicenceRecorded,
    ProviderRegistered,
    ProviderRehired,
    RoomAdded,
    SiteRegistered,
    VisitTypeDefined,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import Change, View

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
    handles = (
        *_KINDS,
        ProviderRehired,
        ProviderJobChanged,
        ProviderIdentified,
        ProviderLicenceRecorded,
    )

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if isinstance(event, ProviderLicenceRecorded):
            doc_id = f"{envelope.tenant}:{event.provider_id}"
            await view.change(PROVIDERS, doc_id, envelope, _licensed(event))
            return
        if isinstance(event, ProviderRehired | ProviderJobChanged | ProviderIdentified):
            await view.change(
                PROVIDERS, f"{envelope.tenant}:{event.provider_id}", envelope, _learnt(event)
            )
            return
        kind = _KINDS.get(type(event))
        if kind is None:
            return
        collection, id_field = kind
        fields = event.model_dump(mode="json", exclude={"learnt_from"})

        def register(doc: Document | None) -> Document:
            learnt = {"licence_ids": doc["licence_ids"]} if doc and "licence_ids" in doc else {}
            return {"tenant": envelope.tenant, **fields, **learnt}

        await view.change(collection, f"{envelope.tenant}:{fields[id_field]}", envelope, register)


def _learnt(event: ProviderRehired | ProviderJobChanged | ProviderIdentified) -> Change:
    def change(doc: Document | None) -> Document | None:
        if doc is None or "tenant" not in doc:  # not registered: these come after the hire
            return doc
        if isinstance(event, ProviderIdentified):
            doc.update(npi=event.npi, taxonomy_code=event.taxonomy_code, specialty=event.specialty)
            return doc
        doc["site_ids"] = [
            *doc["site_ids"],
            *(s for s in event.site_ids if s not in doc["site_ids"]),
        ]
        doc["role"] = event.role
        if isinstance(event, ProviderRehired):
            doc["name"] = event.name
        return doc

    return change


def _licensed(event: ProviderLicenceRecorded) -> Change:
    def change(doc: Document | None) -> Document:
        doc = doc or {"provider_id": event.provider_id}
        known = doc.get("licence_ids", [])
        if event.licence_id not in known:
            doc["licence_ids"] = [*known, event.licence_id]
        return doc

    return change
