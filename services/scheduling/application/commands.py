"""The scheduling use cases, each one command handled against the event store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.scheduling.domain import directory, patients, streams
from services.scheduling.domain.events import (
    ProviderRegistered,
    RoomAdded,
    SiteRegistered,
    VisitTypeDefined,
)
from services.scheduling.domain.patients import ForgetPatient, RecordAccess, RegisterPatient
from services.scheduling.domain.provider_day import BookAppointment, CancelAppointment, provider_day
from services.scheduling.projections.appointments import APPOINTMENTS
from services.scheduling.projections.appointments import PROJECTION as APPOINTMENTS_PROJECTION
from shared.commands import CommandHandler, Outcome
from shared.domain import Decider, Invalid, NotFound
from shared.events import DomainEvent, Metadata
from shared.readmodels import ReadModels

T = TypeVar("T")


def _patient_of(event: DomainEvent) -> str | None:
    return getattr(event, "patient_id", None)


class Scheduling:
    def __init__(
        self,
        handler: CommandHandler,
        read_models: ReadModels,
        appointments_behind: Callable[[], Awaitable[bool]],
        locate_timeout: float = 5.0,
    ) -> None:
        self._handler = handler
        self._read_models = read_models
        self._appointments_behind = appointments_behind
        self._locate_timeout = locate_timeout

    def new_id(self) -> str:
        return self._handler.ids.new_id()

    async def register_site(self, meta: Metadata, c: directory.RegisterSite) -> Outcome[Any]:
        try:
            ZoneInfo(c.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Invalid(f"unknown time zone {c.time_zone!r}") from exc
        stream = streams.site(meta.tenant, c.site_id)
        return await self._handler.handle(stream, directory.site, c, meta, subject=c.site_id)

    async def add_room(self, meta: Metadata, c: directory.AddRoom) -> Outcome[Any]:
        await self._site(meta.tenant, c.site_id)
        stream = streams.room(meta.tenant, c.room_id)
        return await self._handler.handle(stream, directory.room, c, meta, subject=c.room_id)

    async def register_provider(
        self, meta: Metadata, c: directory.RegisterProvider
    ) -> Outcome[Any]:
        for site_id in c.site_ids:
            await self._site(meta.tenant, site_id)
        stream = streams.provider(meta.tenant, c.provider_id)
        return await self._handler.handle(
            stream, directory.provider, c, meta, subject=c.provider_id
        )

    async def define_visit_type(self, meta: Metadata, c: directory.DefineVisitType) -> Outcome[Any]:
        stream = streams.visit_type(meta.tenant, c.visit_type_id)
        return await self._handler.handle(
            stream, directory.visit_type, c, meta, subject=c.visit_type_id
        )

    async def book(
        self,
        meta: Metadata,
        *,
        appointment_id: str,
        patient_id: str,
        provider_id: str,
        site_id: str,
        room_id: str | None,
        visit_type_id: str,
        start: datetime,
        end: datetime | None,
    ) -> Outcome[Any]:
        site = await self._site(meta.tenant, site_id)
        provider = await self._registered(
            streams.provider(meta.tenant, provider_id),
            directory.provider,
            ProviderRegistered,
            f"provider {provider_id}",
        )
        if site_id not in provider.site_ids:
            raise Invalid(f"provider {provider_id} does not work at site {site_id}")
        visit = await self._registered(
            streams.visit_type(meta.tenant, visit_type_id),
            directory.visit_type,
            VisitTypeDefined,
            f"visit type {visit_type_id}",
        )
        if room_id is not None:
            room = await self._registered(
                streams.room(meta.tenant, room_id), directory.room, RoomAdded, f"room {room_id}"
            )
            if room.site_id != site_id:
                raise Invalid(f"room {room_id} is not at site {site_id}")
        # Events hold UTC; the site's zone decides which local day (and stream) it belongs to.
        start = start.astimezone(UTC)
        end = (end or start + timedelta(minutes=visit.duration_minutes)).astimezone(UTC)
        day = start.astimezone(ZoneInfo(site.time_zone)).date()
        command = BookAppointment(
            appointment_id=appointment_id,
            patient_id=patient_id,
            provider_id=provider_id,
            site_id=site_id,
            room_id=room_id,
            visit_type_id=visit_type_id,
            start=start,
            end=end,
            booked_at=self._handler.clock.now(),
        )
        stream = streams.provider_day(meta.tenant, provider_id, day)
        meta = meta.model_copy(update={"site": site_id})
        return await self._handler.handle(
            stream, provider_day, command, meta, subject=appointment_id
        )

    async def cancel(
        self,
        meta: Metadata,
        appointment_id: str,
        reason: str,
        may_see_site: Callable[[str], bool] = lambda _: True,
    ) -> Outcome[Any]:
        """Cancel an appointment; one at a site the caller may not see is not found."""
        # The appointment's home stream comes from the appointments read model; right after
        # booking it may lag a few milliseconds behind, so give it a bounded moment.
        located = await self._read_models.wait_exists(
            APPOINTMENTS_PROJECTION,
            APPOINTMENTS,
            f"{meta.tenant}:{appointment_id}",
            self._locate_timeout,
            self._appointments_behind,
        )
        if located is None or not may_see_site(located["site_id"]):
            raise NotFound(f"appointment {appointment_id} not found")
        command = CancelAppointment(
            appointment_id=appointment_id, reason=reason, cancelled_at=self._handler.clock.now()
        )
        meta = meta.model_copy(update={"site": located["site_id"]})
        return await self._handler.handle(
            located["stream"], provider_day, command, meta, subject=appointment_id
        )

    async def forget_patient(self, meta: Metadata, patient_id: str, reason: str) -> Outcome[Any]:
        """Destroy the patient's data key, then record that it was done and why.

        The key goes first: a crash in between leaves the PHI unreadable (the privacy promise
        kept) and the client's retry records the event.
        """
        vault = self._handler.vault
        if vault is None:
            raise Invalid("this service keeps no PHI keys")
        await vault.forget(meta.tenant, patient_id)
        command = ForgetPatient(
            patient_id=patient_id, reason=reason, forgotten_at=self._handler.clock.now()
        )
        stream = streams.patient(meta.tenant, patient_id)
        return await self._handler.handle(
            stream, patients.patient, command, meta, subject=patient_id
        )

    async def register_patient(
        self,
        meta: Metadata,
        *,
        patient_id: str,
        name: str,
        birth_date: date,
        phone: str,
        email: str = "",
        address: str = "",
    ) -> Outcome[Any]:
        command = RegisterPatient(
            patient_id=patient_id,
            name=name,
            birth_date=birth_date,
            phone=phone,
            email=email,
            address=address,
            registered_at=self._handler.clock.now(),
        )
        stream = streams.patient(meta.tenant, patient_id)
        return await self._handler.handle(
            stream, patients.patient, command, meta, subject=patient_id
        )

    async def record_access(
        self, meta: Metadata, patient_ids: Iterable[str], endpoint: str, purpose: str | None
    ) -> None:
        """Put on the record that a response disclosed these patients' data."""
        command = RecordAccess(
            patient_ids=tuple(patient_ids),
            endpoint=endpoint,
            purpose=purpose,
            outcome="disclosed",
            accessed_at=self._handler.clock.now(),
        )
        if not command.patient_ids:
            return
        stream = streams.record_access(meta.tenant, self.new_id())
        await self._handler.handle(stream, patients.access, command, meta, subject=_patient_of)

    async def _site(self, tenant: str, site_id: str) -> SiteRegistered:
        return await self._registered(
            streams.site(tenant, site_id), directory.site, SiteRegistered, f"site {site_id}"
        )

    async def _registered(
        self, stream: str, decider: Decider[directory.Registered, Any], kind: type[T], what: str
    ) -> T:
        state, _ = await self._handler.load(stream, decider)
        if not isinstance(state.event, kind):
            raise NotFound(f"{what} not found")
        return state.event
