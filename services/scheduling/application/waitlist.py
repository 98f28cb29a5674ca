"""Waitlist use cases: entries, offers of freed slots, and accepting one into a booking.

Every decision about entries and offers is made by the waitlist decider on the site's waitlist
stream. Accepting spans two streams: the slot is booked through the normal booking path (the
site-day decider), then the acceptance is recorded; a booking refused because the slot was
taken lapses the offer, and a booking whose offer closed meanwhile is withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from services.scheduling.application.appointments import Appointments
from services.scheduling.application.directory import Directory
from services.scheduling.domain import patients, site_day, streams
from services.scheduling.domain.events import AppointmentCancelled
from services.scheduling.domain.waitlist import (
    AcceptOffer,
    AddEntry,
    DeclineOffer,
    ExpireOffer,
    LapseOffer,
    NewOffer,
    OfferSlot,
    RemoveEntry,
    Slot,
    check_acceptable,
    waitlist,
)
from services.scheduling.projections import waitlist as view
from shared.commands import CommandHandler, Outcome
from shared.documents.port import Document
from shared.domain import DomainError, Invalid, NotFound, Rejected
from shared.events import Metadata
from shared.readmodels import ReadModels
from shared.usecases import UseCases

# How long a patient has to answer an offer (never past the slot's start).
OFFER_MINUTES = 120


@dataclass(frozen=True)
class Accepted:
    appointment_id: str
    offer: Outcome[Any]  # on the waitlist stream
    booking: Outcome[Any]  # on the slot's site-day stream


class Waitlist(UseCases):
    def __init__(
        self,
        handler: CommandHandler,
        directory: Directory,
        appointments: Appointments,
        read_models: ReadModels,
        offer_minutes: int = OFFER_MINUTES,
    ) -> None:
        super().__init__(handler)
        self._directory = directory
        self._appointments = appointments
        self._read_models = read_models
        self._offer_minutes = offer_minutes

    def _new_offer(self) -> NewOffer:
        return NewOffer(
            offer_id=self.new_id(), appointment_id=self.new_id(), minutes=self._offer_minutes
        )

    async def _handle(
        self, meta: Metadata, site_id: str, command: Any, subject: str
    ) -> Outcome[Any]:
        meta = meta.model_copy(update={"site": site_id})
        stream = streams.waitlist(meta.tenant, site_id)
        return await self._handler.handle(stream, waitlist, command, meta, subject=subject)

    # ------------------------------------------------------------------------------- entries

    async def add(
        self,
        meta: Metadata,
        *,
        entry_id: str,
        site_id: str,
        patient_id: str,
        visit_type_id: str,
        provider_id: str | None,
        earliest: date,
        latest: date,
    ) -> Outcome[Any]:
        """Put a registered patient on the site's waitlist for a visit type between two local
        dates, with one provider of the site or with any."""
        await self._directory.site(meta.tenant, site_id)
        visit = await self._directory.visit_type(meta.tenant, visit_type_id)
        if provider_id is not None:
            provider = await self._directory.provider(meta.tenant, provider_id)
            assert provider.registered is not None
            if site_id not in provider.all_site_ids:  # the offer's booking checks the day
                raise Invalid(f"provider {provider_id} does not work at site {site_id}")
            if visit.provider_roles and provider.registered.role not in visit.provider_roles:
                raise Invalid(
                    f"a {visit.name} is seen by {', '.join(visit.provider_roles)}, "
                    f"not by a {provider.registered.role}"
                )
        await self._directory.patient(meta.tenant, patient_id)
        now = self.now()
        zone = await self._directory.zone(meta.tenant, site_id)
        command = AddEntry(
            entry_id=entry_id,
            patient_id=patient_id,
            site_id=site_id,
            visit_type_id=visit_type_id,
            provider_id=provider_id,
            earliest=earliest,
            latest=latest,
            today=now.astimezone(zone).date(),
            added_at=now,
        )
        return await self._handle(meta, site_id, command, entry_id)

    async def remove(self, meta: Metadata, site_id: str, entry_id: str) -> Outcome[Any]:
        command = RemoveEntry(entry_id=entry_id, at=self.now(), offer=self._new_offer())
        return await self._handle(meta, site_id, command, entry_id)

    # -------------------------------------------------------------------------------- offers

    async def offer_freed_slot(
        self, meta: Metadata, cancelled: AppointmentCancelled
    ) -> Outcome[Any] | None:
        """Offer a cancelled appointment's slot to the first matching entry. A cancellation
        seen again offers nothing more: the decider remembers the slots it offered."""
        c = cancelled
        site_id, provider_id, visit_type_id = c.site_id, c.provider_id, c.visit_type_id
        start, end = c.start, c.end
        if site_id is None or provider_id is None or visit_type_id is None:
            return None  # recorded before cancellations named their slot
        if start is None or end is None:
            return None
        zone = await self._directory.zone(meta.tenant, site_id)
        slot = Slot(
            source_appointment_id=c.appointment_id,
            site_id=site_id,
            provider_id=provider_id,
            room_id=c.room_id,
            visit_type_id=visit_type_id,
            start=start,
            end=end,
            day=start.astimezone(zone).date(),
        )
        command = OfferSlot(slot=slot, at=self.now(), offer=self._new_offer())
        return await self._handle(meta, site_id, command, c.appointment_id)

    async def accept(self, meta: Metadata, site_id: str, offer_id: str) -> Accepted:
        """Book the offered slot for the entry's patient, then record the acceptance.

        Past its expiry the offer is recorded as expired (the slot passes on) and refused;
        a slot someone took meanwhile lapses the offer (the slot passes on) and is refused."""
        now = self.now()
        state, _ = await self._handler.load(streams.waitlist(meta.tenant, site_id), waitlist)
        offer = state.offers.get(offer_id)
        if offer is None:
            raise NotFound(f"offer {offer_id} not found")
        if offer.status != "accepted":  # accepted already: a retry, which books nothing new
            if offer.status == "open" and now > offer.made.expires_at:
                await self.expire(meta, site_id, offer_id)  # the slot passes on right away
            check_acceptable(offer, now)
        made = offer.made
        try:
            booking = await self._appointments.book(
                meta,
                appointment_id=made.appointment_id,
                patient_id=made.patient_id,
                provider_id=made.provider_id,
                site_id=made.site_id,
                room_id=made.room_id,
                visit_type_id=made.visit_type_id,
                start=made.start,
                end=made.end,
            )
        except Rejected as exc:
            lapse = LapseOffer(
                offer_id=offer_id, reason=exc.reason, at=self.now(), offer=self._new_offer()
            )
            await self._handle(meta, site_id, lapse, offer_id)  # the slot passes on
            if isinstance(exc, patients.Forgotten):
                raise  # the patient was forgotten since they joined: not the slot's doing
            raise Rejected(f"the offered slot is no longer free: {exc.reason}") from exc
        try:
            accepted = await self._handle(
                meta, site_id, AcceptOffer(offer_id=offer_id, at=now), offer_id
            )
        except DomainError:
            # The offer closed while the slot was booked (declined, expired): undo the booking.
            withdraw = site_day.WithdrawBooking(
                appointment_id=made.appointment_id,
                reason=f"waitlist offer {offer_id} closed meanwhile",
                withdrawn_at=self.now(),
            )
            await self._handler.handle(
                booking.stream, site_day.site_day, withdraw, meta, subject=made.appointment_id
            )
            raise
        return Accepted(made.appointment_id, accepted, booking)

    async def decline(self, meta: Metadata, site_id: str, offer_id: str) -> Outcome[Any]:
        command = DeclineOffer(offer_id=offer_id, at=self.now(), offer=self._new_offer())
        return await self._handle(meta, site_id, command, offer_id)

    async def expire(self, meta: Metadata, site_id: str, offer_id: str) -> Outcome[Any]:
        """Record an overdue offer as expired and pass its slot on; otherwise nothing."""
        command = ExpireOffer(offer_id=offer_id, at=self.now(), offer=self._new_offer())
        return await self._handle(meta, site_id, command, offer_id)

    # --------------------------------------------------------------------------------- reads

    async def listing(self, tenant: str, site_id: str) -> tuple[list[Document], list[Document]]:
        """The site's waiting entries (first added first) and open offers (by start)."""
        await self._directory.site(tenant, site_id)
        where = {"tenant": tenant, "site_id": site_id}
        entries = await self._read_models.find(
            view.PROJECTION, view.ENTRIES, {**where, "status": "waiting"}
        )
        offers = await self._read_models.find(
            view.PROJECTION, view.OFFERS, {**where, "status": "open"}
        )
        entries.sort(key=lambda e: (datetime.fromisoformat(e["added_at"]), e["sequence"]))
        offers.sort(key=lambda o: (o["start"], o["offer_id"]))
        return entries, offers

    async def overdue_offers(self, limit: int) -> list[Document]:
        """Open offers past their expiry, in every tenant: for the offer timer."""
        now = self.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return await self._read_models.find(
            view.PROJECTION,
            view.OFFERS,
            {"status": "open", "expires_at": {"$lte": now}},
            limit=limit,
        )
