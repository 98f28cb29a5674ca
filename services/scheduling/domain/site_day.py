"""A site's day: every appointment at one site on one local date, and its lifecycle.

This stream is where "no provider and no room is double-booked" holds: each booking is decided
against all the others of the site's day, and the append's expected version makes a race lose.
(A provider who works at several sites is kept apart by their availability, see providers.py.)
Check-in, rooming, completion and no-shows live here too, so every transition is decided on the
appointment's one current state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.scheduling.domain.calendar import Interval, check_calendar, overlaps, within
from services.scheduling.domain.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentMovedOut,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentWithdrawn,
    PatientCheckedIn,
    PatientRoomed,
    VisitCompleted,
)
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

Status = Literal[
    "booked", "checked_in", "in_room", "completed", "cancelled", "no_show", "moved", "withdrawn"
]
# Statuses that hold the provider's and the room's time.
HOLDING: frozenset[str] = frozenset({"booked", "checked_in", "in_room", "completed"})

# CPT (5 digits, or 4 and F/T/U) or HCPCS Level II (a letter and 4 digits), with modifiers.
PROCEDURE = re.compile(r"^(\d{4}[0-9FTU]|[A-V]\d{4})(-[A-Z0-9]{2}){0,4}$")
# ICD-10-CM: letter, digit, alphanumeric, then optionally a dot and up to 4 more. Any letter:
# ICD-10-CM uses U codes too (U07.1 COVID-19, U09.9 post-COVID condition).
DIAGNOSIS = re.compile(r"^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$")


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BookAppointment(Command):
    appointment_id: str
    patient_id: str
    provider_id: str
    site_id: str
    room_id: str | None
    visit_type_id: str
    start: AwareDatetime
    end: AwareDatetime
    booked_at: AwareDatetime
    series_id: str | None = None
    rescheduled_from: str | None = None
    available: tuple[tuple[AwareDatetime, AwareDatetime], ...]  # the provider's, that day
    unavailable_reason: str = "the provider is not available at that time"
    # With no room_id: the suitable rooms of the site, the first free one is taken.
    candidate_rooms: tuple[str, ...] = ()


class RescheduleAppointment(Command):
    appointment_id: str
    provider_id: str
    room_id: str | None
    start: AwareDatetime
    end: AwareDatetime
    rescheduled_at: AwareDatetime
    available: tuple[tuple[AwareDatetime, AwareDatetime], ...]
    unavailable_reason: str = "the provider is not available at that time"


class MoveAppointmentOut(Command):
    appointment_id: str
    to_stream: str
    moved_at: AwareDatetime
    # When the booking on the new day was made: a booking here made later (it came back) is
    # not what this move leaves, and stays.
    booked_there_at: AwareDatetime


class WithdrawBooking(Command):
    appointment_id: str
    reason: str
    withdrawn_at: AwareDatetime


class CancelAppointment(Command):
    appointment_id: str
    reason: str
    cancelled_at: AwareDatetime
    late_cancel_hours: int
    # The start the patient was told (a signed link's): refused if the visit has moved since.
    expected_start: AwareDatetime | None = None


class ConfirmAppointment(Command):
    """The patient will come. Confirming a confirmed booking again records nothing."""

    appointment_id: str
    confirmed_at: AwareDatetime
    expected_start: AwareDatetime | None = None  # as for CancelAppointment


class CheckIn(Command):
    appointment_id: str
    checked_in_at: AwareDatetime


class RoomPatient(Command):
    appointment_id: str
    room_id: str | None
    roomed_at: AwareDatetime


class CompleteVisit(Command):
    appointment_id: str
    procedures: tuple[str, ...]
    diagnoses: tuple[str, ...]
    completed_at: AwareDatetime


class MarkNoShow(Command):
    appointment_id: str
    recorded_at: AwareDatetime
    automatic: bool
    grace_minutes: int


SiteDayCommand = (
    BookAppointment
    | RescheduleAppointment
    | MoveAppointmentOut
    | WithdrawBooking
    | CancelAppointment
    | ConfirmAppointment
    | CheckIn
    | RoomPatient
    | CompleteVisit
    | MarkNoShow
)


@dataclass(frozen=True, slots=True)
class Booking:
    """What the booking that made an appointment said, kept in the folded state. A slotted
    dataclass of plain values rather than the event itself: a process keeps the states of
    thousands of site-days (shared/commands.py), and every full collection of the garbage
    collector walks them; an event kept whole (a model, its field set) was three tracked
    objects per appointment where this and the appointment are two."""

    appointment_id: str
    patient_id: str
    provider_id: str
    site_id: str
    room_id: str | None
    visit_type_id: str
    start: datetime
    end: datetime
    booked_at: datetime
    series_id: str | None

    @classmethod
    def of(cls, event: AppointmentBooked) -> Booking:
        return cls(
            appointment_id=event.appointment_id,
            patient_id=event.patient_id,
            provider_id=event.provider_id,
            site_id=event.site_id,
            room_id=event.room_id,
            visit_type_id=event.visit_type_id,
            start=event.start,
            end=event.end,
            booked_at=event.booked_at,
            series_id=event.series_id,
        )


@dataclass(frozen=True, slots=True)
class Appointment:
    booked: Booking
    provider_id: str
    room_id: str | None
    start: datetime
    end: datetime
    status: Status = "booked"
    moved_to: str | None = None
    confirmed: bool = False

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDING


@dataclass(frozen=True)
class SiteDay:
    appointments: Mapping[str, Appointment]  # read-only: states are shared (see shared.commands)

    def clash(
        self, provider_id: str, room_id: str | None, start: datetime, end: datetime, skip: str
    ) -> str | None:
        """Why the provider or the room is taken then, or None when both are free."""
        for appointment_id, a in self.appointments.items():
            if appointment_id == skip or not a.holds_time:
                continue
            if not overlaps(a.start, a.end, start, end):
                continue
            if a.provider_id == provider_id:
                return (
                    f"provider {provider_id} is already booked then (appointment {appointment_id})"
                )
            if room_id is not None and a.room_id == room_id:
                return f"room {room_id} is already booked then (appointment {appointment_id})"
        return None


def evolve(state: SiteDay, event: DomainEvent) -> SiteDay:
    match event:
        case AppointmentBooked():
            a = Appointment(
                Booking.of(event), event.provider_id, event.room_id, event.start, event.end
            )
            return SiteDay({**state.appointments, event.appointment_id: a})
        case AppointmentRescheduled():
            return _set(
                state,
                event.appointment_id,
                provider_id=event.provider_id,
                room_id=event.room_id,
                start=event.start,
                end=event.end,
            )
        case AppointmentMovedOut():
            return _set(state, event.appointment_id, status="moved", moved_to=event.to_stream)
        case AppointmentWithdrawn():
            return _set(state, event.appointment_id, status="withdrawn")
        case AppointmentCancelled():
            return _set(state, event.appointment_id, status="cancelled")
        case AppointmentConfirmed():
            return _set(state, event.appointment_id, confirmed=True)
        case PatientCheckedIn():
            return _set(state, event.appointment_id, status="checked_in")
        case PatientRoomed():
            return _set(state, event.appointment_id, status="in_room", room_id=event.room_id)
        case VisitCompleted():
            return _set(state, event.appointment_id, status="completed")
        case AppointmentNoShow():
            return _set(state, event.appointment_id, status="no_show")
    return state


def _set(state: SiteDay, appointment_id: str, **changes: object) -> SiteDay:
    current = state.appointments[appointment_id]
    return SiteDay({**state.appointments, appointment_id: replace(current, **changes)})  # type: ignore[arg-type]


def decide(state: SiteDay, command: SiteDayCommand) -> Sequence[DomainEvent]:
    check_calendar(command)
    if isinstance(command, BookAppointment):
        return _book(state, command)
    a = state.appointments.get(command.appointment_id)
    if a is None:
        if isinstance(command, WithdrawBooking):
            return []  # nothing was booked here: nothing to undo
        raise NotFound(f"appointment {command.appointment_id} not found")
    match command:
        case RescheduleAppointment():
            return _reschedule(state, a, command)
        case MoveAppointmentOut():
            if a.status == "moved" and a.moved_to == command.to_stream:
                return []
            if a.booked.booked_at > command.booked_there_at:
                return []  # moved back here since: that move is history
            _require(a, {"booked"}, "moved")
            return [
                AppointmentMovedOut(
                    appointment_id=command.appointment_id,
                    provider_id=a.provider_id,
                    to_stream=command.to_stream,
                    moved_at=command.moved_at,
                )
            ]
        case WithdrawBooking():
            if a.status == "withdrawn":
                return []
            _require(a, {"booked"}, "withdrawn")
            return [
                AppointmentWithdrawn(
                    appointment_id=command.appointment_id,
                    provider_id=a.provider_id,
                    reason=command.reason,
                    withdrawn_at=command.withdrawn_at,
                )
            ]
        case CancelAppointment():
            _same_start(a, command.expected_start)
            return _cancel(a, command)
        case ConfirmAppointment():
            return _confirm(a, command)
        case CheckIn():
            _require(a, {"booked"}, "checked in")
            return [
                PatientCheckedIn(
                    appointment_id=command.appointment_id,
                    patient_id=a.booked.patient_id,
                    provider_id=a.provider_id,
                    checked_in_at=command.checked_in_at,
                )
            ]
        case RoomPatient():
            return _room(state, a, command)
        case CompleteVisit():
            return _complete(a, command)
        case MarkNoShow():
            return _no_show(a, command)


_DONE = {
    "cancelled": "it was cancelled",
    "completed": "it was completed",
    "no_show": "the patient did not show",
    "moved": "it was moved to another day or site",
    "withdrawn": "it was withdrawn",
    "checked_in": "the patient is checked in",
    "in_room": "the patient is in a room",
    "booked": "the patient has not checked in",
}


def _require(a: Appointment, allowed: set[str], verb: str) -> None:
    if a.status not in allowed:
        raise Rejected(f"appointment {a.booked.appointment_id} cannot be {verb}: {_DONE[a.status]}")


_SAME_BOOKING = ("patient_id", "provider_id", "site_id", "visit_type_id", "start", "end")


def _same_booking(existing: Booking, c: BookAppointment) -> bool:
    """A retry of the booking that made `existing` (a different clock reading aside)."""
    room_ok = c.room_id == existing.room_id or (
        c.room_id is None and existing.room_id in c.candidate_rooms
    )
    return room_ok and all(getattr(existing, f) == getattr(c, f) for f in _SAME_BOOKING)


def _book(state: SiteDay, c: BookAppointment) -> Sequence[DomainEvent]:
    if c.end <= c.start:
        raise Invalid("an appointment must end after it starts")
    existing = state.appointments.get(c.appointment_id)
    if existing is not None and existing.status != "moved":  # moving back here is a booking
        if _same_booking(existing.booked, c):
            return []  # the same booking again changes nothing
        raise Rejected(f"appointment {c.appointment_id} already exists")
    room_id = c.room_id
    if room_id is None and c.candidate_rooms:
        room_id = next(
            (r for r in c.candidate_rooms if state.clash("", r, c.start, c.end, "") is None),
            None,
        )
        if room_id is None:
            raise Rejected("no suitable room is free then")
    _check_slot(state, c.provider_id, room_id, c.start, c.end, c.available, c, skip="")
    fields = c.model_dump(exclude={"available", "unavailable_reason", "candidate_rooms"})
    return [AppointmentBooked(**{**fields, "room_id": room_id})]


def _check_slot(
    state: SiteDay,
    provider_id: str,
    room_id: str | None,
    start: datetime,
    end: datetime,
    available: Sequence[Interval],
    c: BookAppointment | RescheduleAppointment,
    skip: str,
) -> None:
    if not within(available, start, end):
        raise Rejected(c.unavailable_reason)
    clash = state.clash(provider_id, room_id, start, end, skip)
    if clash is not None:
        raise Rejected(clash)


def _reschedule(state: SiteDay, a: Appointment, c: RescheduleAppointment) -> Sequence[DomainEvent]:
    _require(a, {"booked"}, "rescheduled")
    if c.end <= c.start:
        raise Invalid("an appointment must end after it starts")
    if (c.provider_id, c.room_id, c.start, c.end) == (a.provider_id, a.room_id, a.start, a.end):
        return []
    _check_slot(state, c.provider_id, c.room_id, c.start, c.end, c.available, c, c.appointment_id)
    return [
        AppointmentRescheduled(
            **c.model_dump(exclude={"available", "unavailable_reason"}),
            previous_provider_id=a.provider_id,
        )
    ]


def _same_start(a: Appointment, expected: datetime | None) -> None:
    if expected is not None and a.start != expected and a.status == "booked":
        raise Rejected(
            f"appointment {a.booked.appointment_id} has moved since: it starts at "
            f"{a.start.isoformat()} now"
        )


def _confirm(a: Appointment, c: ConfirmAppointment) -> Sequence[DomainEvent]:
    _require(a, {"booked"}, "confirmed")
    _same_start(a, c.expected_start)
    if a.confirmed:
        return []
    b = a.booked
    return [
        AppointmentConfirmed(
            appointment_id=c.appointment_id,
            patient_id=b.patient_id,
            provider_id=a.provider_id,
            site_id=b.site_id,
            start=a.start,
            confirmed_at=c.confirmed_at,
        )
    ]


def _cancel(a: Appointment, c: CancelAppointment) -> Sequence[DomainEvent]:
    _require(a, {"booked", "checked_in"}, "cancelled")
    b = a.booked
    return [
        AppointmentCancelled(
            appointment_id=c.appointment_id,
            reason=c.reason,
            cancelled_at=c.cancelled_at,
            patient_id=b.patient_id,
            late=a.start - c.cancelled_at < timedelta(hours=c.late_cancel_hours),
            provider_id=a.provider_id,
            site_id=b.site_id,
            room_id=a.room_id,
            visit_type_id=b.visit_type_id,
            start=a.start,
            end=a.end,
        )
    ]


def _room(state: SiteDay, a: Appointment, c: RoomPatient) -> Sequence[DomainEvent]:
    _require(a, {"checked_in"}, "roomed")
    room_id = c.room_id or a.room_id
    if room_id != a.room_id and room_id is not None:
        clash = state.clash("", room_id, a.start, a.end, c.appointment_id)
        if clash is not None:
            raise Rejected(clash)
    return [
        PatientRoomed(
            appointment_id=c.appointment_id,
            provider_id=a.provider_id,
            room_id=room_id,
            roomed_at=c.roomed_at,
        )
    ]


def _complete(a: Appointment, c: CompleteVisit) -> Sequence[DomainEvent]:
    _require(a, {"checked_in", "in_room"}, "completed")
    if not c.procedures:
        raise Invalid("a completed visit names at least one procedure (CPT/HCPCS)")
    if not c.diagnoses:
        raise Invalid("a completed visit names at least one diagnosis (ICD-10-CM)")
    bad = [p for p in c.procedures if not PROCEDURE.match(p)]
    if bad:
        raise Invalid(f"not a CPT or HCPCS code: {', '.join(bad)}")
    bad = [d for d in c.diagnoses if not DIAGNOSIS.match(d)]
    if bad:
        raise Invalid(f"not an ICD-10-CM code: {', '.join(bad)}")
    b = a.booked
    return [
        VisitCompleted(
            appointment_id=c.appointment_id,
            patient_id=b.patient_id,
            provider_id=a.provider_id,
            site_id=b.site_id,
            visit_type_id=b.visit_type_id,
            start=a.start,
            procedures=c.procedures,
            diagnoses=c.diagnoses,
            completed_at=c.completed_at,
        )
    ]


def _no_show(a: Appointment, c: MarkNoShow) -> Sequence[DomainEvent]:
    if c.automatic and a.status != "booked":
        return []  # the patient came, or the slot went elsewhere: the timer has nothing to do
    _require(a, {"booked"}, "marked a no-show")
    due = a.start + timedelta(minutes=c.grace_minutes if c.automatic else 0)
    if c.recorded_at < due:
        raise Rejected(f"appointment {c.appointment_id} has not started yet")
    return [
        AppointmentNoShow(
            appointment_id=c.appointment_id,
            patient_id=a.booked.patient_id,
            provider_id=a.provider_id,
            recorded_at=c.recorded_at,
            automatic=c.automatic,
        )
    ]


site_day = Decider[SiteDay, SiteDayCommand](SiteDay({}), evolve, decide)
