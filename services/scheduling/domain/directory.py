"""Sites, rooms and visit types: things that are registered once, then referenced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.scheduling.domain.events import (
    WEEKDAYS_8_TO_6,
    Hours,
    RoomAdded,
    SiteRegistered,
    VisitTypeDefined,
)
from shared.domain import Command, Decider, Invalid, Rejected
from shared.events import DomainEvent


class RegisterSite(Command):
    site_id: str
    name: str
    time_zone: str
    opening_hours: tuple[Hours, ...] = WEEKDAYS_8_TO_6
    late_cancel_hours: int = 24
    no_show_grace_minutes: int = 30


class AddRoom(Command):
    room_id: str
    site_id: str
    name: str
    room_type: str = "exam"


class DefineVisitType(Command):
    visit_type_id: str
    name: str
    duration_minutes: int
    room_type: str | None = "exam"
    provider_roles: tuple[str, ...] = ()


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


def check_hours(hours: Sequence[Hours]) -> None:
    """Opening hours: weekdays 0-6, each span opens before it closes, spans of a day disjoint."""
    for h in hours:
        if not 0 <= h.weekday <= 6:
            raise Invalid("a weekday is 0 (Monday) to 6 (Sunday)")
        if h.opens >= h.closes:
            raise Invalid(f"opening hours on weekday {h.weekday} close before they open")
    for a in hours:
        for b in hours:
            if a is not b and a.weekday == b.weekday and a.opens < b.closes and b.opens < a.closes:
                raise Invalid(f"opening hours on weekday {a.weekday} overlap")


def _register_site(state: Registered, c: RegisterSite) -> Sequence[DomainEvent]:
    # The application checks the time zone against the tz database before it gets here.
    check_hours(c.opening_hours)
    if not 0 <= c.late_cancel_hours <= 168:
        raise Invalid("the late-cancellation window is 0 to 168 hours")
    if not 0 <= c.no_show_grace_minutes <= 240:
        raise Invalid("the no-show grace period is 0 to 240 minutes")
    return _once(state, "site", SiteRegistered(**c.model_dump()))


def _add_room(state: Registered, c: AddRoom) -> Sequence[DomainEvent]:
    return _once(state, "room", RoomAdded(**c.model_dump()))


def _define_visit_type(state: Registered, c: DefineVisitType) -> Sequence[DomainEvent]:
    if not 5 <= c.duration_minutes <= 480:
        raise Invalid("a visit lasts from 5 to 480 minutes")
    return _once(state, "visit type", VisitTypeDefined(**c.model_dump()))


site = Decider[Registered, RegisterSite](Registered(), _evolve, _register_site)
room = Decider[Registered, AddRoom](Registered(), _evolve, _add_room)
visit_type = Decider[Registered, DefineVisitType](Registered(), _evolve, _define_visit_type)
