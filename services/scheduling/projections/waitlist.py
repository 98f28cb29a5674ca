"""Waitlists: one document per entry and one per offer, with their site and status.

A site's list is its waiting entries, first added first, and its open offers; the offer
timer finds open offers past their expiry here. Waitlist events hold no PHI.
"""

from __future__ import annotations

from typing import Any, get_args

from services.scheduling.domain.events import (
    WaitlistEntryAdded,
    WaitlistEntryRemoved,
    WaitlistOfferAccepted,
    WaitlistOfferDeclined,
    WaitlistOfferExpired,
    WaitlistOfferLapsed,
    WaitlistOfferMade,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import Change, View

PROJECTION = "scheduling.waitlist"
ENTRIES = "waitlist_entries"
OFFERS = "waitlist_offers"

_Closing = (
    WaitlistOfferAccepted | WaitlistOfferDeclined | WaitlistOfferLapsed | WaitlistOfferExpired
)
_Event = WaitlistEntryAdded | WaitlistEntryRemoved | WaitlistOfferMade | _Closing


def doc_id(tenant: str, some_id: str) -> str:
    return f"{tenant}:{some_id}"


def _offer_change(event: _Closing) -> dict[str, Any]:
    fields = event.model_dump(mode="json")
    match event:
        case WaitlistOfferAccepted():
            return {"status": "accepted", "closed_at": fields["accepted_at"]}
        case WaitlistOfferDeclined():
            return {"status": "declined", "closed_at": fields["declined_at"]}
        case WaitlistOfferLapsed():
            return {"status": "lapsed", "closed_at": fields["lapsed_at"], "reason": event.reason}
    return {"status": "expired", "closed_at": fields["expired_at"]}


class WaitlistProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (ENTRIES, OFFERS)
    handles: tuple[type[DomainEvent], ...] = get_args(_Event)

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if not isinstance(event, _Event):
            return []
        keys = [(ENTRIES, doc_id(envelope.tenant, event.entry_id))]
        if not isinstance(event, WaitlistEntryAdded | WaitlistEntryRemoved):
            keys.append((OFFERS, doc_id(envelope.tenant, event.offer_id)))
        return keys

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, _Event):
            return
        tenant = envelope.tenant
        entry_doc = doc_id(tenant, event.entry_id)
        fields = event.model_dump(mode="json")
        if isinstance(event, WaitlistEntryAdded):

            def add(_: Document | None) -> Document:
                return {
                    "tenant": tenant,
                    "stream": envelope.stream,
                    "sequence": envelope.stream_version,  # breaks ties of `added_at`, as FIFO
                    "status": "waiting",
                    **fields,
                }

            await view.change(ENTRIES, entry_doc, envelope, add)
            return
        if isinstance(event, WaitlistEntryRemoved):
            await view.change(
                ENTRIES,
                entry_doc,
                envelope,
                _updated(status="removed", closed_at=fields["removed_at"]),
            )
            return
        offer_doc = doc_id(tenant, event.offer_id)
        if isinstance(event, WaitlistOfferMade):

            def offer(_: Document | None) -> Document:
                return {"tenant": tenant, "stream": envelope.stream, "status": "open", **fields}

            await view.change(OFFERS, offer_doc, envelope, offer)
            await view.change(ENTRIES, entry_doc, envelope, _updated(offer_id=event.offer_id))
            return
        await view.change(OFFERS, offer_doc, envelope, _updated(**_offer_change(event)))
        if isinstance(event, WaitlistOfferAccepted):
            booked = _updated(status="booked", offer_id=None, appointment_id=event.appointment_id)
            await view.change(ENTRIES, entry_doc, envelope, booked)
        else:
            await view.change(ENTRIES, entry_doc, envelope, _updated(offer_id=None))


def _updated(**changes: Any) -> Change:
    def change(doc: Document | None) -> Document | None:
        if doc is None:
            return None
        doc.update(changes)
        return doc

    return change
