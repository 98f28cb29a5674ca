"""Sites, rooms, providers and visit types: things that are registered once, then referenced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from services.scheduling.domain.events import (
    ProviderRegistered,
    RoomAdded,
    SiteRegistered,
    VisitTypeDefined,
)
from shared.domain import Decider, Invalid, Rejected
from shared.events import DomainEvent


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegisterSite(Command):
    site_id: str
    name: str
    time_zone: str


class AddRoom(Command):
    room_id: str
    site_id: str
    name: str


class RegisterProvider(Command):
    provider_id: str
    name: str
    site_ids: tuple[str, ...]


class DefineVisitType(Command):
    visit_type_id: str
    name: str
    duration_minutes: int


@dataclass(frozen=True)
class Registered:
    """The state of a registration stream: the one event that created it, if any."""

    event: DomainEvent | None = None


def _evolve(state: Registered, event: DomainEvent) -> Registered:
    return Registered(event) if state.event is None else state


def _once(state: Registered, what: str, event: DomainEvent) -> Sequence[DomainEvent]:
    if state.event is not None:
        if state.event == event:
            return []  # the same registration again changes nothing
        raise Rejected(f"{what} already exists")
    return [event]


def _register_site(state: Registered, c: RegisterSite) -> Sequence[DomainEvent]:
    # The application checks the time zone against the tz database before it gets here.
    return _once(state, "site", SiteRegistered(**c.model_dump()))


def _add_room(state: Registered, c: AddRoom) -> Sequence[DomainEvent]:
    return _once(state, "room", RoomAdded(**c.model_dump()))


def _register_provider(state: Registered, c: RegisterProvider) -> Sequence[DomainEvent]:
    if not c.site_ids:
        raise Invalid("a provider works at one site at least")
    return _once(state, "provider", ProviderRegistered(**c.model_dump()))


def _define_visit_type(state: Registered, c: DefineVisitType) -> Sequence[DomainEvent]:
    if not 5 <= c.duration_minutes <= 480:
        raise Invalid("a visit lasts from 5 to 480 minutes")
    return _once(state, "visit type", VisitTypeDefined(**c.model_dump()))


site = Decider[Registered, RegisterSite](Registered(), _evolve, _register_site)
room = Decider[Registered, AddRoom](Registered(), _evolve, _add_room)
provider = Decider[Registered, RegisterProvider](Registered(), _evolve, _register_provider)
visit_type = Decider[Registered, DefineVisitType](Registered(), _evolve, _define_visit_type)
