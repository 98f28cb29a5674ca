"""Looking up what bookings refer to: sites, rooms, visit types, providers and patients, from
their streams in the event store (never from a read model, which may lag or be rebuilt).

Sites, rooms and visit types never change once registered, so each is read from its stream
once per process; a site's rooms are the room streams tagged with it (see tag_index.py). A
provider changes (licences, time off, templates) and a patient may be forgotten at any moment:
they are read every time.
"""

from __future__ import annotations

from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from services.scheduling.application.tag_index import TagIndex
from services.scheduling.domain import directory, patients, providers, streams
from services.scheduling.domain.events import RoomAdded, SiteRegistered, VisitTypeDefined
from shared.commands import CommandHandler
from shared.domain import Decider, NotFound
from shared.events import DomainEvent

T = TypeVar("T", bound=DomainEvent)

_REMEMBERED = 10_000


class Directory:
    def __init__(self, handler: CommandHandler, tags: TagIndex) -> None:
        self._handler = handler
        self._tags = tags
        self._registered: dict[str, DomainEvent] = {}

    async def site(self, tenant: str, site_id: str) -> SiteRegistered:
        stream = streams.site(tenant, site_id)
        return await self._once(stream, directory.site, SiteRegistered, f"site {site_id}")

    async def zone(self, tenant: str, site_id: str) -> ZoneInfo:
        return ZoneInfo((await self.site(tenant, site_id)).time_zone)

    async def room(self, tenant: str, room_id: str) -> RoomAdded:
        stream = streams.room(tenant, room_id)
        return await self._once(stream, directory.room, RoomAdded, f"room {room_id}")

    async def rooms_at(self, tenant: str, site_id: str) -> list[RoomAdded]:
        """Every room registered at the site, from the event store (right after it was)."""
        found = await self._tags.streams(streams.site_rooms_tag(tenant, site_id))
        rooms = [await self._once(s, directory.room, RoomAdded, f"room {s}") for s in found]
        return [r for r in rooms if r.site_id == site_id]

    async def visit_type(self, tenant: str, visit_type_id: str) -> VisitTypeDefined:
        stream = streams.visit_type(tenant, visit_type_id)
        what = f"visit type {visit_type_id}"
        return await self._once(stream, directory.visit_type, VisitTypeDefined, what)

    async def provider(self, tenant: str, provider_id: str) -> providers.Provider:
        state, _ = await self._handler.load(
            streams.provider(tenant, provider_id), providers.provider
        )
        if state.registered is None:
            raise NotFound(f"provider {provider_id} not found")
        return state

    async def patient(self, tenant: str, patient_id: str) -> None:
        """Refuse an unknown (404) or forgotten (409) patient: one load of their stream."""
        await check_patient(self._handler, tenant, patient_id)

    async def _once(
        self, stream: str, decider: Decider[directory.Registered, Any], kind: type[T], what: str
    ) -> T:
        event = self._registered.get(stream)
        if event is None:
            state, _ = await self._handler.load(stream, decider)
            event = state.event
            if isinstance(event, kind):
                if len(self._registered) >= _REMEMBERED:
                    self._registered.clear()
                self._registered[stream] = event
        if not isinstance(event, kind):
            raise NotFound(f"{what} not found")
        return event


async def check_patient(handler: CommandHandler, tenant: str, patient_id: str) -> None:
    """Whatever names a patient anew (a booking, a series, a waitlist entry, a triage) names a
    registered one who was not forgotten, as their stream in the event store says."""
    record, _ = await handler.load(streams.patient(tenant, patient_id), patients.patient)
    patients.check_may_be_named(record, patient_id)
