"""A provider's day: the appointments booked with one provider on one local date.

This stream is where "no provider is double-booked" holds: every booking for the provider's day
is decided against all the others, and the append's expected version makes a race lose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.scheduling.domain.events import AppointmentBooked, AppointmentCancelled
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent


class BookAppointment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    appointment_id: str
    patient_id: str
    provider_id: str
    site_id: str
    room_id: str | None
    visit_type_id: str
    start: AwareDatetime
    end: AwareDatetime
    booked_at: AwareDatetime


class CancelAppointment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    appointment_id: str
    reason: str
    cancelled_at: AwareDatetime


ProviderDayCommand = BookAppointment | CancelAppointment


@dataclass(frozen=True)
class Booking:
    start: datetime
    end: datetime
    cancelled: bool = False
    booked: AppointmentBooked | None = None


@dataclass(frozen=True)
class ProviderDay:
    bookings: dict[str, Booking] = field(default_factory=dict)

    def clash(self, start: datetime, end: datetime) -> str | None:
        for appointment_id, b in self.bookings.items():
            if not b.cancelled and b.start < end and start < b.end:
                return appointment_id
        return None


def evolve(state: ProviderDay, event: DomainEvent) -> ProviderDay:
    match event:
        case AppointmentBooked():
            booking = Booking(event.start, event.end, booked=event)
            return ProviderDay({**state.bookings, event.appointment_id: booking})
        case AppointmentCancelled():
            current = state.bookings[event.appointment_id]
            return ProviderDay(
                {**state.bookings, event.appointment_id: replace(current, cancelled=True)}
            )
    return state


def decide(state: ProviderDay, command: ProviderDayCommand) -> Sequence[DomainEvent]:
    match command:
        case BookAppointment():
            return _book(state, command)
        case CancelAppointment():
            return _cancel(state, command)


def _book(state: ProviderDay, c: BookAppointment) -> Sequence[DomainEvent]:
    if c.end <= c.start:
        raise Invalid("an appointment must end after it starts")
    existing = state.bookings.get(c.appointment_id)
    booked = AppointmentBooked(**c.model_dump())
    if existing is not None:
        if existing.booked == booked:
            return []  # the same booking again changes nothing
        raise Rejected(f"appointment {c.appointment_id} already exists")
    other = state.clash(c.start, c.end)
    if other is not None:
        raise Rejected(
            f"provider {c.provider_id} is already booked at that time (appointment {other})"
        )
    return [booked]


def _cancel(state: ProviderDay, c: CancelAppointment) -> Sequence[DomainEvent]:
    booking = state.bookings.get(c.appointment_id)
    if booking is None:
        raise NotFound(f"appointment {c.appointment_id} not found")
    if booking.cancelled:
        raise Rejected("the appointment is already cancelled")
    patient = booking.booked.patient_id if booking.booked is not None else None
    return [AppointmentCancelled(**c.model_dump(), patient_id=patient)]


provider_day = Decider[ProviderDay, ProviderDayCommand](ProviderDay(), evolve, decide)
