"""An appointment's messages, planned and stopped from what scheduling publishes.

A booking (or a move to another day or site, which scheduling publishes as a booking there)
plans the confirmation or reschedule notice and the 72/24-hour reminders; a move within the
day plans them again for the new start; a cancellation stops them (and plans the cancellation
notice); a booking withdrawn by scheduling's own process stops them with no notice, for it never
was an appointment. Every command decides on the appointment's stream in the event store, with
the patient's consent folded from theirs and the site's time zone from the site's stream, learnt
from scheduling's `SiteRegistered` as engagement's own event (`application/sites.py`; a site
not learnt yet: `SiteNotLearnt`, the event is delivered again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.engagement.application.consent import Consents
from services.engagement.application.sites import KnownSite, Sites
from services.engagement.domain import streams
from services.engagement.domain.consent import Consent
from services.engagement.domain.events import MessageScheduled
from services.engagement.domain.reminders import (
    AppointmentMessages,
    CancelMessages,
    PlanMessages,
    appointment_messages,
)
from shared.commands import CommandHandler, Outcome
from shared.domain import Decider
from shared.events import DomainEvent, Metadata
from shared.usecases import UseCases


@dataclass(frozen=True)
class Planned:
    """An appointment's messages as recorded, with the site they were planned for."""

    state: AppointmentMessages
    site_id: str | None


def _site_of(site: str | None, event: DomainEvent) -> str | None:
    return event.site_id if isinstance(event, MessageScheduled) else site


def _nothing(_: str | None, __: None) -> Sequence[DomainEvent]:
    return []


appointment_site = Decider[str | None, None](None, _site_of, _nothing)


class AppointmentMessagesUseCases(UseCases):
    def __init__(self, handler: CommandHandler, consents: Consents, sites: Sites) -> None:
        super().__init__(handler)
        self._consents = consents
        self._sites = sites

    async def site(self, tenant: str, site: str) -> KnownSite:
        """The site as engagement learnt it (`SiteNotLearnt` if it has not yet)."""
        return await self._sites.of(tenant, site)

    async def zone(self, tenant: str, site: str) -> ZoneInfo:
        return (await self._sites.of(tenant, site)).zone

    async def plan(
        self,
        meta: Metadata,
        appointment_id: str,
        patient_id: str,
        site: str,
        start: datetime,
    ) -> Outcome[AppointmentMessages]:
        command = PlanMessages(
            appointment_id=appointment_id,
            patient_id=patient_id,
            site_id=site,
            start=start,
            zone=await self.zone(meta.tenant, site),
            consent=await self._consents.of(meta.tenant, patient_id),
            now=self.now(),
        )
        return await self._decide(meta, appointment_id, command)

    async def replan(
        self, meta: Metadata, appointment_id: str, start: datetime
    ) -> Outcome[AppointmentMessages] | None:
        """A move within the day: plan again for `start`, for the patient and site planned
        before; None when nothing was ever planned (no channel consented at the booking)."""
        planned = await self.planned(meta.tenant, appointment_id)
        if planned.state.patient_id is None or planned.site_id is None:
            return None
        return await self.plan(
            meta, appointment_id, planned.state.patient_id, planned.site_id, start
        )

    async def cancel(
        self,
        meta: Metadata,
        appointment_id: str,
        patient_id: str | None,
        site: str | None,
        notify: bool = True,
    ) -> Outcome[AppointmentMessages] | None:
        """Stop the appointment's messages (and plan its cancellation notice if `notify`);
        None when neither the event nor the stream names the patient or the site."""
        planned = await self.planned(meta.tenant, appointment_id)
        patient_id = patient_id or planned.state.patient_id
        site = site or planned.site_id
        if patient_id is None or site is None:
            return None
        consent = await self._consents.of(meta.tenant, patient_id) if notify else Consent()
        command = CancelMessages(
            appointment_id=appointment_id,
            patient_id=patient_id,
            site_id=site,
            zone=await self.zone(meta.tenant, site),
            consent=consent,
            now=self.now(),
        )
        return await self._decide(meta, appointment_id, command)

    async def planned(self, tenant: str, appointment_id: str) -> Planned:
        """The appointment's messages as recorded (folded from the event store)."""
        stream = streams.appointment(tenant, appointment_id)
        return Planned(
            await self.state(stream, appointment_messages),
            await self.state(stream, appointment_site),
        )

    async def _decide(
        self, meta: Metadata, appointment_id: str, command: PlanMessages | CancelMessages
    ) -> Outcome[AppointmentMessages]:
        stream = streams.appointment(meta.tenant, appointment_id)
        return await self.decide(
            stream, appointment_messages, command, meta, subject=command.patient_id
        )
