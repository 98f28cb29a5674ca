"""Scheduling's set-up and patient use cases, each one command handled against the event store.

Appointments have their own module, appointments.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.scheduling.application.directory import Directory
from services.scheduling.domain import directory, patients, providers, streams
from services.scheduling.domain.events import Window
from services.scheduling.domain.patients import ForgetPatient, RegisterPatient
from shared.commands import CommandHandler, Outcome
from shared.domain import Invalid
from shared.events import Metadata
from shared.usecases import Disclosures, UseCases


class Scheduling(UseCases):
    """Set-up (sites, rooms, visit types, providers) and patients."""

    def __init__(self, handler: CommandHandler, directory: Directory) -> None:
        super().__init__(handler)
        self._directory = directory
        self._disclosures = Disclosures(handler, patients.access, streams.record_access)

    async def register_site(self, meta: Metadata, c: directory.RegisterSite) -> Outcome[Any]:
        try:
            ZoneInfo(c.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Invalid(f"unknown time zone {c.time_zone!r}") from exc
        stream = streams.site(meta.tenant, c.site_id)
        return await self._handler.handle(stream, directory.site, c, meta, subject=c.site_id)

    async def add_room(self, meta: Metadata, c: directory.AddRoom) -> Outcome[Any]:
        await self._directory.site(meta.tenant, c.site_id)
        stream = streams.room(meta.tenant, c.room_id)
        return await self._handler.handle(stream, directory.room, c, meta, subject=c.room_id)

    async def set_availability(
        self,
        meta: Metadata,
        *,
        provider_id: str,
        site_id: str,
        template_id: str,
        windows: tuple[Window, ...],
        effective_from: date,
        effective_until: date | None,
    ) -> Outcome[Any]:
        site = await self._directory.site(meta.tenant, site_id)
        provider = await self._directory.provider(meta.tenant, provider_id)
        zones = [(s, await self._directory.zone(meta.tenant, s)) for s in provider.all_site_ids]
        command = providers.SetAvailability(
            provider_id=provider_id,
            site_id=site_id,
            template_id=template_id,
            windows=windows,
            effective_from=effective_from,
            effective_until=effective_until,
            opening_hours=site.opening_hours,
            time_zones=tuple(zones),
        )
        return await self.change_provider(meta.model_copy(update={"site": site_id}), command)

    async def change_provider(
        self, meta: Metadata, command: providers.ProviderCommand
    ) -> Outcome[Any]:
        """Licences, time off, blocked time, deactivation: decided on the provider's stream."""
        stream = streams.provider(meta.tenant, command.provider_id)
        return await self._handler.handle(
            stream, providers.provider, command, meta, subject=command.provider_id
        )

    async def define_visit_type(self, meta: Metadata, c: directory.DefineVisitType) -> Outcome[Any]:
        stream = streams.visit_type(meta.tenant, c.visit_type_id)
        return await self._handler.handle(
            stream, directory.visit_type, c, meta, subject=c.visit_type_id
        )

    async def forget_patient(self, meta: Metadata, patient_id: str, reason: str) -> Outcome[Any]:
        """Destroy the patient's data key, then record that it was done and why.

        The key goes first: a crash in between leaves the PHI unreadable (the privacy promise
        kept) and the client's retry records the event. The request is decided once before, so
        one the decider refuses (a blank reason) destroys nothing.
        """
        vault = self._handler.vault
        if vault is None:
            raise Invalid("this service keeps no PHI keys")
        command = ForgetPatient(patient_id=patient_id, reason=reason, forgotten_at=self.now())
        stream = streams.patient(meta.tenant, patient_id)
        patients.patient.decide(await self.state(stream, patients.patient), command)
        await vault.forget(meta.tenant, patient_id)
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
        sex: str = "",
    ) -> Outcome[Any]:
        command = RegisterPatient(
            patient_id=patient_id,
            name=name,
            birth_date=birth_date,
            phone=phone,
            email=email,
            address=address,
            sex=sex,
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
        await self._disclosures.record_access(meta, patient_ids, endpoint, purpose)
