"""Scheduling's background work: finishing moves and series a request left halfway, offering
freed slots to the waitlist, and the no-show and offer-expiry timers."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import structlog

from services.scheduling.application.appointments import Appointments
from services.scheduling.application.directory import Directory
from services.scheduling.application.waitlist import Waitlist
from services.scheduling.domain.events import (
    AppointmentBooked,
    AppointmentCancelled,
    SeriesRequested,
    WaitlistOfferExpired,
)
from services.scheduling.projections.appointments import APPOINTMENTS
from services.scheduling.projections.appointments import PROJECTION as APPOINTMENTS_PROJECTION
from shared.domain import DomainError
from shared.events import DomainEvent, Envelope, Metadata
from shared.readmodels import ReadModels
from shared.timers import Timer

log = structlog.get_logger(__name__)


def utc_text(moment: datetime) -> str:
    """As read models hold appointment times: UTC, to the second, with `Z`; sorts as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SYSTEM = "system:scheduling"


def caused_by(envelope: Envelope) -> Metadata:
    return Metadata.reacting_to(envelope, SYSTEM)


class FinishMoves:
    """An appointment booked on its new day frees its old slot (or is withdrawn)."""

    name = "scheduling.finish_moves"
    contexts = ("scheduling",)

    def __init__(self, appointments: Appointments) -> None:
        self._appointments = appointments

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, AppointmentBooked) and event.rescheduled_from is not None:
            with contextlib.suppress(DomainError):  # withdrawn: nothing else to do
                await self._appointments.finish_move(
                    caused_by(envelope),
                    event.appointment_id,
                    event.rescheduled_from,
                    envelope.stream,
                    event.booked_at,
                )


class FinishSeries:
    """A requested series gets booked whole, or withdrawn whole."""

    name = "scheduling.finish_series"
    contexts = ("scheduling",)

    def __init__(self, appointments: Appointments) -> None:
        self._appointments = appointments

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, SeriesRequested):
            with contextlib.suppress(DomainError):  # refused: its bookings are withdrawn
                await self._appointments.finish_series(caused_by(envelope), event.series_id)


class OfferFreedSlots:
    """A cancelled appointment's slot is offered to the first matching waitlist entry."""

    name = "scheduling.waitlist_offers"
    contexts = ("scheduling",)

    def __init__(self, waitlist: Waitlist) -> None:
        self._waitlist = waitlist

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, AppointmentCancelled):
            with contextlib.suppress(DomainError):  # e.g. its site is unknown: nothing to offer
                await self._waitlist.offer_freed_slot(caused_by(envelope), event)


class NoShowTimer(Timer):
    """Marks a booked patient who has not arrived by start + the site's grace period as a
    no-show. The due appointments come from the appointments read model, itself rebuilt from
    the events, so the timer survives restarts; several processes may fire it at once, and the
    site-day decider records the no-show once."""

    name = "scheduling.no_show_timer"

    def __init__(
        self,
        appointments: Appointments,
        directory: Directory,
        read_models: ReadModels,
        every: float = 30.0,
        batch: int = 200,
    ) -> None:
        super().__init__(every)
        self._appointments = appointments
        self._directory = directory
        self._read_models = read_models
        self._batch = batch

    async def fire_due(self) -> int:
        """Mark every overdue booked appointment; returns how many were marked now."""
        now = self._appointments.now()
        due = await self._read_models.find(
            APPOINTMENTS_PROJECTION,
            APPOINTMENTS,
            {"status": "booked", "start": {"$lte": utc_text(now)}},
            limit=self._batch,
        )
        fired = 0
        for doc in due:
            site = await self._directory.site(doc["tenant"], doc["site_id"])
            if doc["start"] > utc_text(now - timedelta(minutes=site.no_show_grace_minutes)):
                continue
            meta = Metadata(
                tenant=doc["tenant"],
                actor=SYSTEM,
                site=doc["site_id"],
                correlation_id=f"no-show-timer:{doc['appointment_id']}",
            )
            try:
                outcome = await self._appointments.no_show(
                    meta, doc["appointment_id"], automatic=True
                )
            except DomainError as exc:
                log.info("no_show_not_marked", appointment=doc["appointment_id"], reason=str(exc))
                continue
            fired += len(outcome.events)
        return fired


class OfferExpiryTimer(Timer):
    """Records open waitlist offers past their expiry as expired, which passes each slot on
    to the next matching entry. The overdue offers come from the waitlist read model, so the
    timer survives restarts; several processes may fire at once, and the decider records an
    expiry once. Accepting an overdue offer is refused whether or not the timer came first."""

    name = "scheduling.offer_expiry_timer"

    def __init__(self, waitlist: Waitlist, every: float = 30.0, batch: int = 200) -> None:
        super().__init__(every)
        self._waitlist = waitlist
        self._batch = batch

    async def fire_due(self) -> int:
        """Expire every overdue open offer; returns how many were expired now."""
        expired = 0
        for doc in await self._waitlist.overdue_offers(self._batch):
            meta = Metadata(
                tenant=doc["tenant"],
                actor=SYSTEM,
                site=doc["site_id"],
                correlation_id=f"offer-expiry-timer:{doc['offer_id']}",
            )
            try:
                outcome = await self._waitlist.expire(meta, doc["site_id"], doc["offer_id"])
            except DomainError as exc:
                log.info("offer_not_expired", offer=doc["offer_id"], reason=str(exc))
                continue
            expired += sum(isinstance(e, WaitlistOfferExpired) for e in outcome.events)
        return expired
