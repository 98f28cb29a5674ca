"""What open-slot search needs of a site, in one query: its rooms and its providers' availability.

Collection `bookable`, one document per site (its rooms and their types, id `<tenant>:<site>:`)
and one per provider and site they work at (id `<tenant>:<site>:<provider>`): the provider's
state as their stream folds it (`providers.evolve`), with only this site's templates. A search
reads a site's documents with one range query on `_id` (the primary key on SQLite, the `_id`
index on MongoDB: no other index needed) and hands each state to `providers.availability`, the
one rule of when a provider can be booked.

Collection `providers`, one document per provider: the sites they work at, so that a later event
of their stream (a licence, time off) reaches each of their site documents.
"""

from __future__ import annotations

from typing import Any

from services.scheduling.domain import providers
from services.scheduling.domain.events import (
    AvailabilitySet,
    ProviderDeactivated,
    ProviderLicenceRecorded,
    ProviderRegistered,
    ProviderTimeOffApproved,
    RoomAdded,
    TimeBlocked,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.availability"
# Collection names are the service's, not the projection's: "providers" is the directory's.
BOOKABLE, PROVIDERS = "bookable", "provider_sites"

PROVIDER_EVENTS = (
    ProviderRegistered,
    ProviderLicenceRecorded,
    ProviderTimeOffApproved,
    TimeBlocked,
    AvailabilitySet,
    ProviderDeactivated,
)


def site_prefix(tenant: str, site_id: str) -> str:
    """The id of the site's document, and the start of every id of its providers' (ids hold
    no colon)."""
    return f"{tenant}:{site_id}:"


def provider_at_site_id(tenant: str, site_id: str, provider_id: str) -> str:
    return f"{site_prefix(tenant, site_id)}{provider_id}"


def at_site(tenant: str, site_id: str) -> dict[str, Any]:
    """The filter of a site's documents: an `_id` range, then tenant and site to be exact."""
    prefix = site_prefix(tenant, site_id)
    return {
        "_id": {"$gte": prefix, "$lt": prefix[:-1] + chr(ord(":") + 1)},
        "tenant": tenant,
        "site_id": site_id,
    }


def state_json(state: providers.Provider) -> dict[str, Any]:
    """A provider's folded state as a document's fields (its events, as JSON)."""
    assert state.registered is not None
    return {
        "registered": state.registered.model_dump(mode="json"),
        "active": state.active,
        "licences": [e.model_dump(mode="json") for e in state.licences],
        "time_off": [e.model_dump(mode="json") for e in state.time_off],
        "blocks": [e.model_dump(mode="json") for e in state.blocks],
        "templates": [e.model_dump(mode="json") for e in state.templates],
    }


def state_from(doc: Document) -> providers.Provider:
    """The state `state_json` stored, as the domain folds it."""
    return providers.Provider(
        registered=ProviderRegistered.model_validate(doc["registered"]),
        active=bool(doc["active"]),
        licences=tuple(ProviderLicenceRecorded.model_validate(e) for e in doc["licences"]),
        time_off=tuple(ProviderTimeOffApproved.model_validate(e) for e in doc["time_off"]),
        blocks=tuple(TimeBlocked.model_validate(e) for e in doc["blocks"]),
        templates=tuple(AvailabilitySet.model_validate(e) for e in doc["templates"]),
    )


class AvailabilityProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (BOOKABLE, PROVIDERS)
    handles = (*PROVIDER_EVENTS, RoomAdded)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        if isinstance(event, RoomAdded):
            await self._room(event, envelope, view)
            return
        if not isinstance(event, PROVIDER_EVENTS):
            return
        pointer_id = f"{tenant}:{event.provider_id}"

        def note(doc: Document | None) -> Document | None:
            # Every event of the stream is noted as seen here: a search that waits for a
            # version of the stream starts from this document (it knows the sites).
            if doc is None and isinstance(event, ProviderRegistered):
                return {
                    "tenant": tenant,
                    "provider_id": event.provider_id,
                    "site_ids": list(event.site_ids),
                }
            return doc

        await view.change(PROVIDERS, pointer_id, envelope, note)
        pointer = await view.get(PROVIDERS, pointer_id)
        if pointer is None:  # not registered: the decider records nothing before that
            return
        for site_id in pointer["site_ids"]:
            if isinstance(event, AvailabilitySet) and event.site_id != site_id:
                # Another site's template: no part of availability here. Still recorded as
                # seen, so a wait for the stream's version is answered at every site.
                def seen(doc: Document | None) -> Document | None:
                    return doc

                change = seen
            else:
                change = _folding(tenant, site_id, event)
            doc_id = provider_at_site_id(tenant, site_id, event.provider_id)
            await view.change(BOOKABLE, doc_id, envelope, change)

    async def _room(self, event: RoomAdded, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant

        def add(doc: Document | None) -> Document:
            doc = doc or {"tenant": tenant, "site_id": event.site_id, "kind": "site", "rooms": []}
            rooms = {r["room_id"]: r for r in doc["rooms"]}
            rooms[event.room_id] = {"room_id": event.room_id, "room_type": event.room_type}
            doc["rooms"] = sorted(rooms.values(), key=lambda r: str(r["room_id"]))
            return doc

        await view.change(BOOKABLE, site_prefix(tenant, event.site_id), envelope, add)


def _folding(tenant: str, site_id: str, event: DomainEvent) -> Any:
    def fold(doc: Document | None) -> Document | None:
        if doc is None and not isinstance(event, ProviderRegistered):
            return None
        state = providers.Provider() if doc is None else state_from(doc)
        state = providers.evolve(state, event)
        assert state.registered is not None
        return {
            "tenant": tenant,
            "site_id": site_id,
            "kind": "provider",
            "provider_id": state.registered.provider_id,
            "role": state.registered.role,
            **state_json(state),
        }

    return fold
