"""A site's waitlist over HTTP: entries, and accepting or declining the offers of freed slots."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from services.scheduling.api.directory import (
    Body,
    Booking,
    Day,
    Id,
    Readers,
    Recorded,
    check_site,
    recorded,
)
from services.scheduling.api.patients import patient_names
from services.scheduling.application.commands import Scheduling
from services.scheduling.application.waitlist import Waitlist
from shared.access import record_disclosure
from shared.http.app import metadata
from shared.http.identity import Principal
from shared.phivault import PhiVault
from shared.readmodels import ReadModels

ENTRY_FIELDS = (
    "entry_id",
    "patient_id",
    "visit_type_id",
    "provider_id",
    "earliest",
    "latest",
    "added_at",
    "offer_id",
)
OFFER_FIELDS = (
    "offer_id",
    "entry_id",
    "patient_id",
    "appointment_id",
    "source_appointment_id",  # the cancelled appointment that freed the slot
    "provider_id",
    "room_id",
    "visit_type_id",
    "start",
    "end",
    "offered_at",
    "expires_at",
)


class EntryIn(Body):
    """Wait for a slot of `visit_type_id` from `earliest` to `latest` (the site's local
    dates), with `provider_id` or, without one, with any provider."""

    entry_id: Id | None = None
    patient_id: Id
    visit_type_id: Id
    provider_id: Id | None = None
    earliest: Day
    latest: Day


class OfferAccepted(Recorded):
    """The offer's acceptance on the waitlist stream, and the booking on its site-day stream."""

    appointment_id: str
    appointment_stream: str
    appointment_stream_version: int


def build_router(
    scheduling: Scheduling, waitlist: Waitlist, read_models: ReadModels, vault: PhiVault
) -> APIRouter:
    router = APIRouter(prefix="/scheduling", tags=["waitlist"])

    @router.post("/sites/{site_id}/waitlist", status_code=201)
    async def add(
        request: Request, site_id: Id, body: EntryIn, who: Principal = Booking
    ) -> Recorded:
        """Put a registered patient on the site's waitlist; slots freed by cancellations are
        offered to entries first added first."""
        check_site(who, site_id)
        entry_id = body.entry_id or waitlist.new_id()
        outcome = await waitlist.add(
            metadata(request, who),
            entry_id=entry_id,
            site_id=site_id,
            **body.model_dump(exclude={"entry_id"}),
        )
        return recorded(entry_id, outcome)

    @router.post("/sites/{site_id}/waitlist/{entry_id}/remove")
    async def remove(
        request: Request, site_id: Id, entry_id: Id, who: Principal = Booking
    ) -> Recorded:
        """Take an entry off the list; an offer it holds is declined and passed on."""
        check_site(who, site_id)
        outcome = await waitlist.remove(metadata(request, who), site_id, entry_id)
        return recorded(entry_id, outcome)

    @router.post("/sites/{site_id}/waitlist/offers/{offer_id}/accept")
    async def accept(
        request: Request, site_id: Id, offer_id: Id, who: Principal = Booking
    ) -> OfferAccepted:
        """Book the offered slot for the entry's patient. 409 when the offer is closed or
        expired, or the slot was taken meanwhile (then the next entry gets the offer)."""
        check_site(who, site_id)
        accepted = await waitlist.accept(metadata(request, who), site_id, offer_id)
        return OfferAccepted(
            id=offer_id,
            stream=accepted.offer.stream,
            stream_version=accepted.offer.stream_version,
            appointment_id=accepted.appointment_id,
            appointment_stream=accepted.booking.stream,
            appointment_stream_version=accepted.booking.stream_version,
        )

    @router.post("/sites/{site_id}/waitlist/offers/{offer_id}/decline")
    async def decline(
        request: Request, site_id: Id, offer_id: Id, who: Principal = Booking
    ) -> Recorded:
        """Turn the offered slot down: it goes to the next matching entry; this entry keeps
        its place for other slots."""
        check_site(who, site_id)
        outcome = await waitlist.decline(metadata(request, who), site_id, offer_id)
        return recorded(offer_id, outcome)

    @router.get("/sites/{site_id}/waitlist")
    async def listing(request: Request, site_id: Id, who: Principal = Readers) -> dict[str, Any]:
        """The entries waiting at the site, first added first, and the open offers. The read
        is recorded as PatientRecordAccessed per patient."""
        if not who.at_site(site_id):
            raise HTTPException(404, f"site {site_id} not found")
        entries, offers = await waitlist.listing(who.tenant, site_id)
        patients = list(dict.fromkeys(d["patient_id"] for d in [*entries, *offers]))
        names = await patient_names(read_models, vault, who.tenant, patients)
        waiting = [
            {**{k: e.get(k) for k in ENTRY_FIELDS}, "patient_name": names.get(e["patient_id"])}
            for e in entries
        ]
        await record_disclosure(scheduling, request, who, patients)
        return {
            "site_id": site_id,
            "entries": waiting,
            "offers": [{k: o.get(k) for k in OFFER_FIELDS} for o in offers],
        }

    return router
