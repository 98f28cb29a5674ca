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

from dataclasses import replace
from typing import Any

from services.scheduling.domain import providers
from services.scheduling.domain.events import (
    AvailabilitySet,
    ProviderDeactivated,
    ProviderIdentified,
    ProviderJobChanged,
    ProviderLeaveEnded,
    ProviderLeaveStarted,
    ProviderLicenceRecorded,
    ProviderLicenceRenewed,
    ProviderLicenceRevoked,
    ProviderLicenceVerified,
    ProviderRegistered,
    ProviderRehired,
    ProviderTerminated,
    ProviderTimeOffApproved,
    ProviderTimeOffCancelled,
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
    ProviderRehired,
    ProviderJobChanged,
    ProviderLeaveStarted,
    ProviderLeaveEnded,
    ProviderTerminated,
    ProviderIdentified,
    ProviderLicenceRenewed,
    ProviderLicenceRevoked,
    ProviderLicenceVerified,
    ProviderTimeOffCancelled,
)

# The state's fields that are tuples of events, and their classes.
_LISTS: tuple[tuple[str, type[DomainEvent]], ...] = (
    ("licences", ProviderLicenceRecorded),
    ("time_off", ProviderTimeOffApproved),
    ("blocks", TimeBlocked),
    ("templates", AvailabilitySet),
    ("rehires", ProviderRehired),
    ("terminations", ProviderTerminated),
    ("jobs", ProviderJobChanged),
    ("leaves", ProviderLeaveStarted),
    ("returns", ProviderLeaveEnded),
    ("renewals", ProviderLicenceRenewed),
    ("revocations", ProviderLicenceRevoked),
    ("verifications", ProviderLicenceVerified),
    ("cancelled_time_off", ProviderTimeOffCancelled),
)


def site_prefix(tenant: str, site_id: str) -> str:
    """The id of the site's document, and the start of every id of its providers' (ids hold
    no colon)."""
    return f"{tenant}:{site_id}:"


def provider_at_site_id(tenant: str, site_id: str, provider_id: str) -> str:
    return f"{site_prefix(tenant, site_id)}{provider_id}"


def site_range(tenant: str, site_id: str) -> dict[str, Any]:
    """The `_id` range of a site's documents (an index lookup on either store). A tenant name
    holding a colon could share the prefix: `at_site` is exact, or the reader checks the
    documents' `tenant` and `site_id`."""
    prefix = site_prefix(tenant, site_id)
    return {"_id": {"$gte": prefix, "$lt": prefix[:-1] + chr(ord(":") + 1)}}


def at_site(tenant: str, site_id: str) -> dict[str, Any]:
    """The filter of a site's documents: an `_id` range, then tenant and site to be exact."""
    return {**site_range(tenant, site_id), "tenant": tenant, "site_id": site_id}


def state_json(state: providers.Provider) -> dict[str, Any]:
    """A provider's folded state as a document's fields (its events, as JSON). What it leaves
    out (`learnt`) only deciding needs."""
    return {
        "registered": None
        if state.registered is None
        else state.registered.model_dump(mode="json"),
        "identified": None
        if state.identified is None
        else state.identified.model_dump(mode="json"),
        "active": state.active,
        **{f: [e.model_dump(mode="json") for e in getattr(state, f)] for f, _ in _LISTS},
    }


def state_from(doc: Document) -> providers.Provider:
    """The state `state_json` stored, as the domain folds it (a document stored before a
    field existed reads it empty)."""
    registered, identified = doc.get("registered"), doc.get("identified")
    lists: dict[str, Any] = {
        f: tuple(cls.model_validate(e) for e in doc.get(f, [])) for f, cls in _LISTS
    }
    return providers.Provider(
        registered=None if registered is None else ProviderRegistered.model_validate(registered),
        identified=None if identified is None else ProviderIdentified.model_validate(identified),
        active=bool(doc["active"]),
        **lists,
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

        def fold(doc: Document | None) -> Document:
            # The whole state, whatever came first: staffing's facts (a licence, time off)
            # may be recorded on the stream before the hire. Every event of the stream is
            # noted as seen here: a search that waits for a version of the stream starts
            # from this document (it knows the sites).
            state = providers.Provider() if doc is None else state_from(doc)
            state = providers.evolve(state, event)
            return {
                "tenant": tenant,
                "provider_id": event.provider_id,
                "site_ids": list(state.all_site_ids),
                **state_json(state),
            }

        await view.change(PROVIDERS, pointer_id, envelope, fold)
        pointer = await view.get(PROVIDERS, pointer_id)
        if pointer is None or pointer["registered"] is None:
            return  # not a provider yet: no site books them
        state = state_from(pointer)
        for site_id in pointer["site_ids"]:
            doc_id = provider_at_site_id(tenant, site_id, event.provider_id)
            await view.change(BOOKABLE, doc_id, envelope, _at_site(tenant, site_id, state))

    async def _room(self, event: RoomAdded, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant

        def add(doc: Document | None) -> Document:
            doc = doc or {"tenant": tenant, "site_id": event.site_id, "kind": "site", "rooms": []}
            rooms = {r["room_id"]: r for r in doc["rooms"]}
            rooms[event.room_id] = {"room_id": event.room_id, "room_type": event.room_type}
            doc["rooms"] = sorted(rooms.values(), key=lambda r: str(r["room_id"]))
            return doc

        await view.change(BOOKABLE, site_prefix(tenant, event.site_id), envelope, add)


def _at_site(tenant: str, site_id: str, state: providers.Provider) -> Any:
    """The provider's document at a site: the state with only the site's own templates."""
    assert state.registered is not None
    here = replace(state, templates=tuple(t for t in state.templates if t.site_id == site_id))

    def write(doc: Document | None) -> Document:
        assert state.registered is not None
        return {
            "tenant": tenant,
            "site_id": site_id,
            "kind": "provider",
            "provider_id": state.registered.provider_id,
            "role": state.registered.role,
            **state_json(here),
        }

    return write
