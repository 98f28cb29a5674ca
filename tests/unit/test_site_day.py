"""Given these events, when this command, then these events: a site's day of appointments,
from booking to the end of each visit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.scheduling.domain.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentMovedOut,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentWithdrawn,
    PatientCheckedIn,
    PatientRoomed,
    VisitCompleted,
)
from services.scheduling.domain.site_day import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    CompleteVisit,
    MarkNoShow,
    MoveAppointmentOut,
    RescheduleAppointment,
    RoomPatient,
    SiteDayCommand,
    WithdrawBooking,
    site_day,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

BOOKED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
OTHER_DAY = "acme:site-day:north:2026-12-02"


def at(hour: int, minute: int = 0) -> datetime:
    """A time on 1 December 2026 (UTC)."""
    return datetime(2026, 12, 1, hour, minute, tzinfo=UTC)


# Both providers are bookable 9:00-17:00 that day.
OFFICE_HOURS = ((at(9), at(17)),)


def book(
    appointment_id: str = "a1", hour: int = 10, minute: int = 0, **change: Any
) -> BookAppointment:
    start = at(hour, minute)
    fields: dict[str, Any] = {
        "appointment_id": appointment_id,
        "patient_id": f"pat-{appointment_id}",
        "provider_id": "dr-a",
        "site_id": "north",
        "room_id": "exam-1",
        "visit_type_id": "follow-up",
        "start": start,
        "end": start + timedelta(minutes=30),
        "booked_at": BOOKED_AT,
        "available": OFFICE_HOURS,
        **change,
    }
    return BookAppointment(**fields)


def booked(
    appointment_id: str = "a1", hour: int = 10, minute: int = 0, **change: Any
) -> AppointmentBooked:
    command = book(appointment_id, hour, minute, **change)
    fields = command.model_dump(exclude={"available", "unavailable_reason", "candidate_rooms"})
    return AppointmentBooked(**fields)


def when(given: Sequence[DomainEvent], command: SiteDayCommand) -> list[DomainEvent]:
    return list(site_day.decide(site_day.fold(given), command))


def status(given: Sequence[DomainEvent], appointment_id: str = "a1") -> str:
    return site_day.fold(given).appointments[appointment_id].status


CHECKED_IN = PatientCheckedIn(
    appointment_id="a1", patient_id="pat-a1", provider_id="dr-a", checked_in_at=at(9, 55)
)
ROOMED = PatientRoomed(appointment_id="a1", provider_id="dr-a", room_id="exam-1", roomed_at=at(10))


def cancelled(appointment_id: str = "a1") -> AppointmentCancelled:
    [event] = when([booked(appointment_id)], cancel(appointment_id))
    assert isinstance(event, AppointmentCancelled)
    return event


def cancel(
    appointment_id: str = "a1", at_: datetime = BOOKED_AT, hours: int = 24
) -> CancelAppointment:
    return CancelAppointment(
        appointment_id=appointment_id, reason="better", cancelled_at=at_, late_cancel_hours=hours
    )


def complete(
    procedures: tuple[str, ...] = ("99213",), diagnoses: tuple[str, ...] = ("E11.9",)
) -> CompleteVisit:
    return CompleteVisit(
        appointment_id="a1", procedures=procedures, diagnoses=diagnoses, completed_at=at(10, 30)
    )


def no_show(recorded_at: datetime, automatic: bool = False, grace: int = 15) -> MarkNoShow:
    return MarkNoShow(
        appointment_id="a1", recorded_at=recorded_at, automatic=automatic, grace_minutes=grace
    )


COMPLETED = VisitCompleted(
    appointment_id="a1",
    patient_id="pat-a1",
    provider_id="dr-a",
    site_id="north",
    visit_type_id="follow-up",
    start=at(10),
    procedures=("99213",),
    diagnoses=("E11.9",),
    completed_at=at(10, 30),
)
NO_SHOW = AppointmentNoShow(
    appointment_id="a1",
    patient_id="pat-a1",
    provider_id="dr-a",
    recorded_at=at(10, 5),
    automatic=False,
)


# ---------------------------------------------------------------------------------- booking


def test_a_booking_inside_the_provider_availability_is_made() -> None:
    assert when([], book()) == [booked()]


@pytest.mark.parametrize(
    ("hour", "minute"),
    [(8, 45), (16, 45), (17, 0), (7, 0)],
    ids=["early", "late", "after", "night"],
)
def test_a_booking_outside_the_provider_availability_is_refused_with_the_reason(
    hour: int, minute: int
) -> None:
    command = book(hour=hour, minute=minute, unavailable_reason="provider dr-a is on time off then")
    with pytest.raises(Rejected, match="provider dr-a is on time off then"):
        when([], command)


def test_a_booking_at_the_edges_of_availability_is_made() -> None:
    assert when([], book(hour=9)) == [booked(hour=9)]
    assert when([], book(hour=16, minute=30)) == [booked(hour=16, minute=30)]


def test_a_booking_ends_after_it_starts() -> None:
    with pytest.raises(Invalid, match="must end after it starts"):
        when([], book(end=at(10)))


def test_a_provider_is_not_booked_twice_at_once() -> None:
    with pytest.raises(Rejected, match="provider dr-a is already booked then \\(appointment a1\\)"):
        when([booked("a1")], book("a2", minute=15, room_id="exam-2"))


def test_a_room_is_not_booked_twice_at_once() -> None:
    with pytest.raises(Rejected, match="room exam-1 is already booked then \\(appointment a1\\)"):
        when([booked("a1")], book("a2", minute=15, provider_id="dr-b"))


def test_back_to_back_bookings_do_not_clash() -> None:
    assert when([booked("a1")], book("a2", minute=30)) == [booked("a2", minute=30)]


@pytest.mark.parametrize(
    "freed",
    [
        lambda: cancelled(),
        lambda: AppointmentWithdrawn(
            appointment_id="a1", provider_id="dr-a", reason="x", withdrawn_at=at(8)
        ),
        lambda: AppointmentMovedOut(
            appointment_id="a1", provider_id="dr-a", to_stream=OTHER_DAY, moved_at=at(8)
        ),
    ],
    ids=["cancelled", "withdrawn", "moved"],
)
def test_a_freed_slot_can_be_booked_again(freed: Any) -> None:
    assert when([booked("a1"), freed()], book("a2")) == [booked("a2")]


def test_a_no_show_frees_the_slot_and_a_completed_visit_holds_it() -> None:
    assert when([booked("a1"), NO_SHOW], book("a2")) == [booked("a2")]
    with pytest.raises(Rejected, match="provider dr-a is already booked"):
        when([booked("a1"), CHECKED_IN, COMPLETED], book("a2"))


def test_without_a_room_the_first_free_candidate_room_is_taken() -> None:
    command = book(
        "a2", room_id=None, provider_id="dr-b", candidate_rooms=("exam-1", "exam-2", "exam-3")
    )
    assert when([booked("a1")], command) == [booked("a2", room_id="exam-2", provider_id="dr-b")]


def test_without_a_free_candidate_room_the_booking_is_refused() -> None:
    command = book("a2", room_id=None, provider_id="dr-b", candidate_rooms=("exam-1",))
    with pytest.raises(Rejected, match="no suitable room is free then"):
        when([booked("a1")], command)


def test_a_visit_that_needs_no_room_books_none() -> None:
    assert when([booked("a1")], book("a2", room_id=None, provider_id="dr-b")) == [
        booked("a2", room_id=None, provider_id="dr-b")
    ]


def test_a_retried_booking_with_another_clock_reading_changes_nothing() -> None:
    retry = book(booked_at=BOOKED_AT + timedelta(seconds=3))
    assert when([booked()], retry) == []


def test_a_retried_booking_that_chose_its_room_changes_nothing() -> None:
    given = [booked(room_id="exam-2")]
    assert when(given, book(room_id=None, candidate_rooms=("exam-1", "exam-2"))) == []


def test_another_booking_under_an_existing_id_is_refused() -> None:
    with pytest.raises(Rejected, match="appointment a1 already exists"):
        when([booked()], book(patient_id="pat-other"))
    with pytest.raises(Rejected, match="appointment a1 already exists"):
        when([booked()], book(hour=11))


def test_an_appointment_moved_out_can_move_back_into_the_day() -> None:
    moved = AppointmentMovedOut(
        appointment_id="a1", provider_id="dr-a", to_stream=OTHER_DAY, moved_at=at(8)
    )
    back = book(hour=14, rescheduled_from=OTHER_DAY)
    then = when([booked(), moved], back)
    assert then == [booked(hour=14, rescheduled_from=OTHER_DAY)]
    given = [booked(), moved, *then]
    assert status(given) == "booked"
    assert when(given, back.model_copy(update={"booked_at": at(8, 1)})) == []


# ------------------------------------------------------------------------------ rescheduling


def reschedule(hour: int, minute: int = 0, **change: Any) -> RescheduleAppointment:
    start = at(hour, minute)
    fields: dict[str, Any] = {
        "appointment_id": "a1",
        "provider_id": "dr-a",
        "room_id": "exam-1",
        "start": start,
        "end": start + timedelta(minutes=30),
        "rescheduled_at": at(8),
        "available": OFFICE_HOURS,
        **change,
    }
    return RescheduleAppointment(**fields)


def rescheduled(hour: int, minute: int = 0, **change: Any) -> AppointmentRescheduled:
    command = reschedule(hour, minute, **change)
    fields = command.model_dump(exclude={"available", "unavailable_reason"})
    return AppointmentRescheduled(**fields, previous_provider_id="dr-a")


def test_a_reschedule_within_the_day_moves_the_time() -> None:
    then = when([booked()], reschedule(14))
    assert then == [rescheduled(14)]
    after = site_day.fold([booked(), *then]).appointments["a1"]
    assert (after.start, after.end, after.status) == (at(14), at(14, 30), "booked")


def test_a_reschedule_may_overlap_its_own_old_time() -> None:
    assert when([booked()], reschedule(10, 15)) == [rescheduled(10, 15)]


def test_a_reschedule_to_another_provider_names_the_previous_one() -> None:
    then = when([booked()], reschedule(10, provider_id="dr-b"))
    assert then == [rescheduled(10, provider_id="dr-b")]
    # dr-a's time is free again, dr-b's is taken.
    given = [booked(), *then]
    assert when(given, book("a2", room_id="exam-2")) == [booked("a2", room_id="exam-2")]
    with pytest.raises(Rejected, match="provider dr-b is already booked"):
        when(given, book("a3", provider_id="dr-b", room_id="exam-3"))


def test_a_reschedule_to_the_same_slot_changes_nothing() -> None:
    assert when([booked()], reschedule(10)) == []
    assert when([booked(), rescheduled(14)], reschedule(14)) == []


def test_a_reschedule_into_a_clash_or_outside_availability_is_refused() -> None:
    with pytest.raises(Rejected, match="provider dr-a is already booked then \\(appointment a2\\)"):
        when([booked(), booked("a2", hour=14, room_id="exam-2")], reschedule(14))
    with pytest.raises(Rejected, match="room exam-1 is already booked then \\(appointment a2\\)"):
        when([booked(), booked("a2", hour=14, provider_id="dr-b")], reschedule(14))
    with pytest.raises(Rejected, match="not available"):
        when([booked()], reschedule(17))


def test_only_a_booked_appointment_is_rescheduled() -> None:
    with pytest.raises(Rejected, match="cannot be rescheduled: the patient is checked in"):
        when([booked(), CHECKED_IN], reschedule(14))
    with pytest.raises(NotFound, match="appointment a1 not found"):
        when([], reschedule(14))


# ----------------------------------------------------------------------- move out, withdraw


def test_moving_out_frees_the_slot_and_is_idempotent() -> None:
    move = MoveAppointmentOut(
        appointment_id="a1", to_stream=OTHER_DAY, moved_at=at(8), booked_there_at=at(8)
    )
    then = when([booked()], move)
    assert then == [
        AppointmentMovedOut(
            appointment_id="a1", provider_id="dr-a", to_stream=OTHER_DAY, moved_at=at(8)
        )
    ]
    assert when([booked(), *then], move.model_copy(update={"moved_at": at(8, 5)})) == []
    elsewhere = move.model_copy(update={"to_stream": "acme:site-day:south:2026-12-01"})
    with pytest.raises(Rejected, match="cannot be moved: it was moved to another day or site"):
        when([booked(), *then], elsewhere)


def test_a_move_finished_late_leaves_an_appointment_that_came_back_booked() -> None:
    """Moved to another day and back again before the first move's last step ran (a reactor
    behind): that step must not move out the booking the return made here."""
    first_move = MoveAppointmentOut(
        appointment_id="a1", to_stream=OTHER_DAY, moved_at=at(8), booked_there_at=at(8)
    )
    gone = when([booked()], first_move)
    back = booked(booked_at=at(8, 30), rescheduled_from=OTHER_DAY)
    assert when([booked(), *gone, back], first_move.model_copy(update={"moved_at": at(9)})) == []
    assert status([booked(), *gone, back]) == "booked"
    # Moved away again later: that move does free the slot.
    again = first_move.model_copy(update={"booked_there_at": at(8, 45), "moved_at": at(8, 45)})
    assert len(when([booked(), *gone, back], again)) == 1


def test_only_a_booked_appointment_moves_out() -> None:
    move = MoveAppointmentOut(
        appointment_id="a1", to_stream=OTHER_DAY, moved_at=at(8), booked_there_at=at(8)
    )
    with pytest.raises(Rejected, match="cannot be moved: it was cancelled"):
        when([booked(), cancelled()], move)


def test_withdrawing_is_idempotent_and_needs_nothing_booked() -> None:
    withdraw = WithdrawBooking(appointment_id="a1", reason="series refused", withdrawn_at=at(8))
    then = when([booked()], withdraw)
    assert then == [
        AppointmentWithdrawn(
            appointment_id="a1", provider_id="dr-a", reason="series refused", withdrawn_at=at(8)
        )
    ]
    assert when([booked(), *then], withdraw) == []
    assert when([], withdraw) == []  # the booking never got here: nothing to undo


def test_a_checked_in_appointment_is_not_withdrawn() -> None:
    withdraw = WithdrawBooking(appointment_id="a1", reason="series refused", withdrawn_at=at(8))
    with pytest.raises(Rejected, match="cannot be withdrawn: the patient is checked in"):
        when([booked(), CHECKED_IN], withdraw)


# ------------------------------------------------------------------------------ cancelling


def test_a_cancellation_well_ahead_is_not_late() -> None:
    [event] = when([booked()], cancel(at_=at(10) - timedelta(hours=24)))
    assert event == AppointmentCancelled(
        appointment_id="a1",
        reason="better",
        cancelled_at=at(10) - timedelta(hours=24),
        patient_id="pat-a1",
        late=False,
        provider_id="dr-a",
        site_id="north",
        room_id="exam-1",
        visit_type_id="follow-up",
        start=at(10),
        end=at(10, 30),
    )


@pytest.mark.parametrize(
    "before",
    [timedelta(hours=23, minutes=59), timedelta(hours=1), timedelta(0), -timedelta(minutes=5)],
)
def test_a_cancellation_inside_the_window_is_late(before: timedelta) -> None:
    [event] = when([booked()], cancel(at_=at(10) - before))
    assert isinstance(event, AppointmentCancelled)
    assert event.late is True


def test_with_no_window_only_a_cancellation_after_the_start_is_late() -> None:
    [on_time] = when([booked()], cancel(at_=at(9, 59), hours=0))
    [late] = when([booked()], cancel(at_=at(10, 1), hours=0))
    assert isinstance(on_time, AppointmentCancelled)
    assert isinstance(late, AppointmentCancelled)
    assert (on_time.late, late.late) == (False, True)


def test_a_checked_in_patient_may_still_cancel() -> None:
    [event] = when([booked(), CHECKED_IN], cancel(at_=at(9, 58)))
    assert isinstance(event, AppointmentCancelled)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ([booked(), CHECKED_IN, COMPLETED], "it was completed"),
        ([booked(), CHECKED_IN, ROOMED], "the patient is in a room"),
        ([booked(), NO_SHOW], "the patient did not show"),
        ([booked(), cancelled()], "it was cancelled"),
    ],
    ids=["completed", "in room", "no-show", "cancelled"],
)
def test_what_is_over_cannot_be_cancelled(given: list[DomainEvent], reason: str) -> None:
    with pytest.raises(Rejected, match=f"appointment a1 cannot be cancelled: {reason}"):
        when(given, cancel())


def test_an_unknown_appointment_is_not_found() -> None:
    with pytest.raises(NotFound, match="appointment a9 not found"):
        when([booked()], cancel("a9"))


# --------------------------------------------------------------- check-in, rooming, completion


def test_check_in_from_booked() -> None:
    check_in = CheckIn(appointment_id="a1", checked_in_at=at(9, 55))
    assert when([booked()], check_in) == [CHECKED_IN]
    assert status([booked(), CHECKED_IN]) == "checked_in"


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ([booked(), cancelled()], "it was cancelled"),
        ([booked(), CHECKED_IN, COMPLETED], "it was completed"),
        ([booked(), NO_SHOW], "the patient did not show"),
        ([booked(), CHECKED_IN], "the patient is checked in"),
    ],
    ids=["cancelled", "completed", "no-show", "twice"],
)
def test_check_in_only_from_booked(given: list[DomainEvent], reason: str) -> None:
    with pytest.raises(Rejected, match=f"appointment a1 cannot be checked in: {reason}"):
        when(given, CheckIn(appointment_id="a1", checked_in_at=at(10)))


def test_rooming_in_the_booked_room() -> None:
    room = RoomPatient(appointment_id="a1", room_id=None, roomed_at=at(10))
    assert when([booked(), CHECKED_IN], room) == [ROOMED]
    assert status([booked(), CHECKED_IN, ROOMED]) == "in_room"


def test_rooming_in_another_free_room_moves_the_room() -> None:
    room = RoomPatient(appointment_id="a1", room_id="exam-2", roomed_at=at(10))
    then = when([booked(), CHECKED_IN], room)
    assert then == [ROOMED.model_copy(update={"room_id": "exam-2"})]
    # exam-1 is free again.
    given = [booked(), CHECKED_IN, *then]
    assert when(given, book("a2", provider_id="dr-b")) == [booked("a2", provider_id="dr-b")]


def test_rooming_in_a_room_taken_then_is_refused() -> None:
    given = [booked(), booked("a2", provider_id="dr-b", room_id="exam-2"), CHECKED_IN]
    with pytest.raises(Rejected, match="room exam-2 is already booked then \\(appointment a2\\)"):
        when(given, RoomPatient(appointment_id="a1", room_id="exam-2", roomed_at=at(10)))


def test_rooming_needs_a_check_in() -> None:
    with pytest.raises(Rejected, match="cannot be roomed: the patient has not checked in"):
        when([booked()], RoomPatient(appointment_id="a1", room_id=None, roomed_at=at(10)))


@pytest.mark.parametrize(
    "given", [[booked(), CHECKED_IN], [booked(), CHECKED_IN, ROOMED]], ids=["checked in", "in room"]
)
def test_a_visit_is_completed_with_its_codes(given: list[DomainEvent]) -> None:
    assert when(given, complete()) == [COMPLETED]


def test_completion_needs_a_check_in() -> None:
    with pytest.raises(Rejected, match="cannot be completed: the patient has not checked in"):
        when([booked()], complete())
    with pytest.raises(Rejected, match="cannot be completed: it was completed"):
        when([booked(), CHECKED_IN, COMPLETED], complete())


@pytest.mark.parametrize(
    "code",
    ["99213", "0001F", "0042T", "0001U", "G0439", "J3490", "99213-25", "99214-25-59", "A0425-GM"],
)
def test_cpt_and_hcpcs_codes_are_accepted(code: str) -> None:
    [event] = when([booked(), CHECKED_IN], complete(procedures=(code,)))
    assert isinstance(event, VisitCompleted)
    assert event.procedures == (code,)


@pytest.mark.parametrize(
    "code", ["9921", "992130", "W1234", "99213-2", "g0439", "99213 25", "0001X"]
)
def test_other_procedure_codes_are_invalid(code: str) -> None:
    with pytest.raises(Invalid, match=f"not a CPT or HCPCS code: {code}"):
        when([booked(), CHECKED_IN], complete(procedures=("99213", code)))


@pytest.mark.parametrize(
    "code", ["E11.9", "I10", "J45.909", "S72.001A", "T36.0X1A", "Z00.00", "U07.1", "U09.9"]
)
def test_icd10cm_codes_are_accepted(code: str) -> None:
    [event] = when([booked(), CHECKED_IN], complete(diagnoses=(code,)))
    assert isinstance(event, VisitCompleted)
    assert event.diagnoses == (code,)


@pytest.mark.parametrize("code", ["E1", "E11.", "E11.12345", "1E1.9", "EE1.9", "e11.9", "E119.1"])
def test_other_diagnosis_codes_are_invalid(code: str) -> None:
    with pytest.raises(Invalid, match="not an ICD-10-CM code"):
        when([booked(), CHECKED_IN], complete(diagnoses=(code,)))


def test_a_completed_visit_names_a_procedure_and_a_diagnosis() -> None:
    with pytest.raises(Invalid, match="at least one procedure"):
        when([booked(), CHECKED_IN], complete(procedures=()))
    with pytest.raises(Invalid, match="at least one diagnosis"):
        when([booked(), CHECKED_IN], complete(diagnoses=()))


# -------------------------------------------------------------------------------- no-shows


def test_staff_mark_a_no_show_once_the_visit_started() -> None:
    assert when([booked()], no_show(at(10, 5))) == [NO_SHOW]
    assert when([booked()], no_show(at(10))) == [NO_SHOW.model_copy(update={"recorded_at": at(10)})]
    with pytest.raises(Rejected, match="appointment a1 has not started yet"):
        when([booked()], no_show(at(9, 59)))


def test_staff_cannot_mark_a_no_show_of_a_patient_who_came() -> None:
    with pytest.raises(Rejected, match="cannot be marked a no-show: the patient is checked in"):
        when([booked(), CHECKED_IN], no_show(at(10, 30)))
    with pytest.raises(Rejected, match="cannot be marked a no-show: the patient did not show"):
        when([booked(), NO_SHOW], no_show(at(10, 30)))


def test_the_timer_marks_a_no_show_only_after_the_grace_period() -> None:
    with pytest.raises(Rejected, match="has not started yet"):
        when([booked()], no_show(at(10, 14), automatic=True, grace=15))
    assert when([booked()], no_show(at(10, 15), automatic=True, grace=15)) == [
        NO_SHOW.model_copy(update={"recorded_at": at(10, 15), "automatic": True})
    ]


@pytest.mark.parametrize(
    "given",
    [
        [booked(), CHECKED_IN],
        [booked(), CHECKED_IN, ROOMED],
        [booked(), CHECKED_IN, COMPLETED],
        [booked(), NO_SHOW],
        [booked(), cancelled()],
        [
            booked(),
            AppointmentMovedOut(
                appointment_id="a1", provider_id="dr-a", to_stream=OTHER_DAY, moved_at=at(8)
            ),
        ],
    ],
    ids=["checked in", "in room", "completed", "no-show", "cancelled", "moved"],
)
def test_the_timer_has_nothing_to_do_once_the_appointment_is_not_booked(
    given: list[DomainEvent],
) -> None:
    assert when(given, no_show(at(11), automatic=True)) == []
