"""Given these events, when this command, then these events: the provider's day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from services.scheduling.domain.events import AppointmentBooked, AppointmentCancelled
from services.scheduling.domain.provider_day import (
    BookAppointment,
    CancelAppointment,
    provider_day,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 30, hour, minute, tzinfo=UTC)


def book(appointment_id: str, start: datetime, end: datetime) -> BookAppointment:
    return BookAppointment(
        appointment_id=appointment_id,
        patient_id="p1",
        provider_id="dr-a",
        site_id="north",
        room_id=None,
        visit_type_id="follow-up",
        start=start,
        end=end,
        booked_at=NOW,
    )


def booked(appointment_id: str, start: datetime, end: datetime) -> AppointmentBooked:
    return AppointmentBooked(**book(appointment_id, start, end).model_dump())


def when(
    given: Sequence[DomainEvent], command: BookAppointment | CancelAppointment
) -> list[DomainEvent]:
    return list(provider_day.decide(provider_day.fold(given), command))


def test_an_empty_day_takes_a_booking() -> None:
    assert when([], book("a1", at(9), at(9, 30))) == [booked("a1", at(9), at(9, 30))]


@pytest.mark.parametrize(
    ("start", "end"),
    [(at(9), at(9, 30)), (at(8, 45), at(9, 15)), (at(9, 15), at(9, 20)), (at(9, 29), at(10))],
)
def test_an_overlapping_booking_is_refused(start: datetime, end: datetime) -> None:
    with pytest.raises(Rejected, match="already booked"):
        when([booked("a1", at(9), at(9, 30))], book("a2", start, end))


def test_back_to_back_bookings_do_not_clash() -> None:
    given = [booked("a1", at(9), at(9, 30))]
    assert when(given, book("a2", at(9, 30), at(10))) == [booked("a2", at(9, 30), at(10))]
    assert when(given, book("a0", at(8, 30), at(9))) == [booked("a0", at(8, 30), at(9))]


def test_a_cancelled_slot_can_be_booked_again() -> None:
    given: list[DomainEvent] = [
        booked("a1", at(9), at(9, 30)),
        AppointmentCancelled(appointment_id="a1", reason="patient called", cancelled_at=NOW),
    ]
    assert when(given, book("a2", at(9), at(9, 30))) == [booked("a2", at(9), at(9, 30))]


def test_end_before_start_is_invalid() -> None:
    with pytest.raises(Invalid, match="end after it starts"):
        when([], book("a1", at(10), at(9)))


def test_booking_the_same_appointment_again_changes_nothing() -> None:
    assert when([booked("a1", at(9), at(9, 30))], book("a1", at(9), at(9, 30))) == []


def test_reusing_an_appointment_id_for_another_time_is_refused() -> None:
    with pytest.raises(Rejected, match="already exists"):
        when([booked("a1", at(9), at(9, 30))], book("a1", at(11), at(11, 30)))


def test_cancel_records_the_reason() -> None:
    cancel = CancelAppointment(appointment_id="a1", reason="sick", cancelled_at=NOW)
    assert when([booked("a1", at(9), at(9, 30))], cancel) == [
        AppointmentCancelled(appointment_id="a1", reason="sick", cancelled_at=NOW, patient_id="p1")
    ]


def test_cancelling_twice_is_refused() -> None:
    given: list[DomainEvent] = [
        booked("a1", at(9), at(9, 30)),
        AppointmentCancelled(appointment_id="a1", reason="sick", cancelled_at=NOW),
    ]
    with pytest.raises(Rejected, match="already cancelled"):
        when(given, CancelAppointment(appointment_id="a1", reason="again", cancelled_at=NOW))


def test_cancelling_an_unknown_appointment_is_not_found() -> None:
    with pytest.raises(NotFound):
        when([], CancelAppointment(appointment_id="nope", reason="x", cancelled_at=NOW))
