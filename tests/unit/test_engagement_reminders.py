"""An appointment's messages, given events, when a command, then events: a confirmation and
reminders 72 and 24 hours before, planned in the site's zone out of quiet hours (across DST),
once per appointment and threshold; none for a cancelled or moved appointment, also when the
cancellation wins the race with the timer; nothing to a patient from the moment they opt out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.engagement.domain.consent import Consent, OptIn, OptOut, consent
from services.engagement.domain.delivery import LEASE, FireMessage
from services.engagement.domain.events import (
    AppointmentMessagesStopped,
    ChannelOptedIn,
    MessageCancelled,
    MessageReleased,
    MessageScheduled,
    Purpose,
)
from services.engagement.domain.quiet_hours import QuietHours, out_of_quiet_hours
from services.engagement.domain.reminders import (
    AppointmentCommand,
    CancelMessages,
    PlanMessages,
    appointment_messages,
    message_id,
    message_text,
)
from shared.domain import NotFound
from shared.events import DomainEvent

NEW_YORK = ZoneInfo("America/New_York")
SMS = Consent(opted_in=frozenset({"sms"}))
EMAIL_FIRST = Consent(opted_in=frozenset({"sms", "email"}), preferred=("email",))
NOBODY = Consent()
BOOKED_AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 EST
START = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)  # Tuesday 10:30 EDT, after the change


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def plan(start: datetime = START, now: datetime = BOOKED_AT, who: Consent = SMS) -> PlanMessages:
    return PlanMessages(
        appointment_id="ap-1",
        patient_id="pt-1",
        site_id="site-1",
        start=start,
        zone=NEW_YORK,
        consent=who,
        now=now,
    )


def cancel(now: datetime) -> CancelMessages:
    return CancelMessages(
        appointment_id="ap-1",
        patient_id="pt-1",
        site_id="site-1",
        zone=NEW_YORK,
        consent=SMS,
        now=now,
    )


def fire(
    purpose: Purpose, now: datetime, who: Consent = SMS, start: datetime = START
) -> FireMessage:
    return FireMessage(message_id=message_id("ap-1", purpose, start), consent=who, now=now)


def when(given: Sequence[DomainEvent], command: AppointmentCommand) -> Sequence[DomainEvent]:
    return appointment_messages.decide(appointment_messages.fold(given), command)


def stopped(now: datetime) -> AppointmentMessagesStopped:
    return AppointmentMessagesStopped(appointment_id="ap-1", patient_id="pt-1", stopped_at=now)


def scheduled(purpose: Purpose, send_at: datetime, start: datetime = START) -> MessageScheduled:
    return MessageScheduled(
        message_id=message_id("ap-1", purpose, start),
        patient_id="pt-1",
        site_id="site-1",
        purpose=purpose,
        channel="sms",
        send_at=send_at,
        appointment_id="ap-1",
        appointment_start=start,
    )


CONFIRMATION = scheduled("confirmation", BOOKED_AT)
# 72 h before is Saturday 7 March 14:30 UTC, 09:30 EST; 24 h before Monday 10:30 EDT.
REMINDER_72 = scheduled("reminder_72h", utc(2026, 3, 7, 14, 30))
REMINDER_24 = scheduled("reminder_24h", utc(2026, 3, 9, 14, 30))
PLANNED = [CONFIRMATION, REMINDER_72, REMINDER_24]


def released(purpose: Purpose, now: datetime, start: datetime = START) -> MessageReleased:
    return MessageReleased(
        message_id=message_id("ap-1", purpose, start),
        patient_id="pt-1",
        channel="sms",
        attempt=1,
        released_at=now,
        lease_until=now + LEASE,
    )


def test_a_booking_plans_a_confirmation_and_two_reminders_once() -> None:
    assert when([], plan()) == PLANNED
    assert when(PLANNED, plan()) == []  # the booking redelivered


def test_each_message_goes_once_per_appointment_and_threshold() -> None:
    due = REMINDER_24.send_at
    assert when(PLANNED, fire("reminder_24h", due)) == [released("reminder_24h", due)]
    again = [*PLANNED, released("reminder_24h", due)]
    assert when(again, fire("reminder_24h", due + timedelta(seconds=1))) == []
    assert when(again, plan()) == []


def test_a_timer_that_fires_early_sends_nothing_yet() -> None:
    assert when(PLANNED, fire("reminder_72h", REMINDER_72.send_at - timedelta(minutes=1))) == []


def test_the_channel_is_the_preferred_one_the_patient_consented_to() -> None:
    assert {
        e.channel for e in when([], plan(who=EMAIL_FIRST)) if isinstance(e, MessageScheduled)
    } == {"email"}


def test_a_cancellation_cancels_pending_messages_and_sends_a_notice() -> None:
    now = utc(2026, 3, 8, 15, 0)  # Sunday 11:00 EDT: the 72 h reminder went already
    given = [
        *PLANNED,
        released("confirmation", BOOKED_AT),
        released("reminder_72h", REMINDER_72.send_at),
    ]
    assert when(given, cancel(now)) == [
        stopped(now),
        MessageCancelled(
            message_id=REMINDER_24.message_id,
            patient_id="pt-1",
            reason="appointment_cancelled",
            cancelled_at=now,
        ),
        scheduled("cancellation_notice", now),
    ]


def test_the_timer_that_loses_the_race_to_a_cancellation_sends_nothing() -> None:
    """Both decided from the same version; the cancellation committed first, so the timer's
    command is decided again over it (optimistic concurrency) and finds nothing to send."""
    due = REMINDER_24.send_at
    cancelled = [*PLANNED, *when(PLANNED, cancel(due))]
    assert when(cancelled, fire("reminder_24h", due)) == []
    assert when(cancelled, plan()) == []  # nor does a late copy of the booking plan again


def test_a_cancellation_that_loses_the_race_leaves_the_released_reminder_alone() -> None:
    due = REMINDER_24.send_at
    given = [
        *PLANNED,
        released("confirmation", BOOKED_AT),
        released("reminder_72h", REMINDER_72.send_at),
        released("reminder_24h", due),
    ]
    later = due + timedelta(seconds=1)
    assert when(given, cancel(later)) == [stopped(later), scheduled("cancellation_notice", later)]


def test_a_release_whose_answer_was_lost_is_not_offered_again_once_cancelled() -> None:
    """The reminder's sender died after its release; the appointment is cancelled before the
    lease is over: when it is, the reminder is cancelled, not sent again."""
    due = REMINDER_24.send_at
    leased = [*PLANNED, released("reminder_24h", due)]
    given = [*leased, *when(leased, cancel(due))]
    over = due + LEASE
    assert when(given, fire("reminder_24h", over)) == [
        MessageCancelled(
            message_id=message_id("ap-1", "reminder_24h", START),
            patient_id="pt-1",
            reason="appointment_cancelled",
            cancelled_at=over,
        )
    ]


def test_a_cancellation_after_the_visit_began_sends_no_notice() -> None:
    given = [
        *PLANNED,
        released("confirmation", BOOKED_AT),
        released("reminder_72h", REMINDER_72.send_at),
        released("reminder_24h", REMINDER_24.send_at),
    ]
    assert when(given, cancel(START + timedelta(minutes=5))) == [
        stopped(START + timedelta(minutes=5))
    ]


def test_a_cancellation_is_recorded_once_even_with_nothing_planned() -> None:
    """A patient with no channel at the booking had nothing planned; the cancellation is still
    recorded, so that a copy of the booking seen later (a replay) plans nothing for it."""
    now = utc(2026, 3, 4, 15, 0)
    assert when([], plan(who=NOBODY)) == []
    assert when([], cancel(now)) == [stopped(now)]
    assert when([stopped(now)], cancel(now)) == []
    assert when([stopped(now)], plan()) == []


def test_a_timer_late_after_the_visit_began_cancels_its_message() -> None:
    late = START + timedelta(minutes=1)
    assert when(PLANNED, fire("reminder_24h", late)) == [
        MessageCancelled(
            message_id=REMINDER_24.message_id,
            patient_id="pt-1",
            reason="visit_passed",
            cancelled_at=late,
        )
    ]


def test_a_move_cancels_the_old_reminders_and_plans_the_new_ones() -> None:
    moved_to = utc(2026, 3, 12, 14, 30)  # Thursday 10:30 EDT
    now = utc(2026, 3, 3, 15, 0)
    given = [*PLANNED, released("confirmation", BOOKED_AT)]
    moved = when(given, plan(start=moved_to, now=now))
    assert moved == [
        MessageCancelled(
            message_id=REMINDER_72.message_id,
            patient_id="pt-1",
            reason="appointment_moved",
            cancelled_at=now,
        ),
        MessageCancelled(
            message_id=REMINDER_24.message_id,
            patient_id="pt-1",
            reason="appointment_moved",
            cancelled_at=now,
        ),
        scheduled("reschedule_notice", now, moved_to),
        scheduled("reminder_72h", utc(2026, 3, 9, 14, 30), moved_to),
        scheduled("reminder_24h", utc(2026, 3, 11, 14, 30), moved_to),
    ]
    after = [*given, *moved]
    assert when(after, fire("reminder_72h", REMINDER_72.send_at)) == []  # the old start's
    assert when(after, fire("reminder_72h", utc(2026, 3, 9, 14, 30), start=moved_to)) == [
        released("reminder_72h", utc(2026, 3, 9, 14, 30), moved_to)
    ]


def test_an_opted_out_patient_receives_nothing_from_the_moment_it_is_recorded() -> None:
    opted_in = consent.decide(
        consent.initial, OptIn(patient_id="pt-1", channel="sms", source="front_desk", now=BOOKED_AT)
    )
    assert opted_in == [
        ChannelOptedIn(patient_id="pt-1", channel="sms", source="front_desk", recorded_at=BOOKED_AT)
    ]
    opted_out_at = utc(2026, 3, 5, 12, 0)
    history = [
        *opted_in,
        *consent.decide(
            consent.fold(opted_in),
            OptOut(patient_id="pt-1", channel="sms", source="reply", now=opted_out_at),
        ),
    ]
    assert consent.fold(opted_in) == SMS
    after = consent.fold(history)
    cancelled = when(PLANNED, fire("reminder_72h", REMINDER_72.send_at, who=after))
    assert cancelled == [
        MessageCancelled(
            message_id=REMINDER_72.message_id,
            patient_id="pt-1",
            reason="opted_out",
            cancelled_at=REMINDER_72.send_at,
        )
    ]
    assert when([*PLANNED, *cancelled], fire("reminder_72h", REMINDER_72.send_at, who=after)) == []
    assert when([], plan(who=after)) == []  # and nothing is planned for them


def test_opting_in_or_out_twice_records_it_once() -> None:
    opted_in = [
        ChannelOptedIn(patient_id="pt-1", channel="sms", source="patient", recorded_at=BOOKED_AT)
    ]
    assert (
        consent.decide(
            consent.fold(opted_in),
            OptIn(patient_id="pt-1", channel="sms", source="link", now=BOOKED_AT),
        )
        == []
    )
    assert (
        consent.decide(
            consent.initial, OptOut(patient_id="pt-1", channel="sms", source="link", now=BOOKED_AT)
        )
        == []
    )


def test_a_timer_for_a_message_never_planned_is_not_found() -> None:
    with pytest.raises(NotFound):
        when(PLANNED, FireMessage(message_id="ap-1:survey:x", consent=SMS, now=BOOKED_AT))


# ----------------------------------------------------------------------- quiet hours, DST


def test_a_reminder_in_quiet_hours_goes_at_their_end_in_standard_time_before_the_change() -> None:
    start = utc(2026, 3, 10, 12, 30)  # Tuesday 08:30 EDT
    # 72 h before is Saturday 7 March 12:30 UTC: 07:30 EST, quiet. Moved to 08:00 EST, which is
    # 13:00 UTC; the visit's own offset (EDT) would have said 12:00 UTC, still quiet.
    planned = when([], plan(start=start))
    assert [e.send_at for e in planned if isinstance(e, MessageScheduled)] == [
        BOOKED_AT,
        utc(2026, 3, 7, 13, 0),
        utc(2026, 3, 9, 12, 30),  # Monday 08:30 EDT: not quiet
    ]


def test_quiet_hours_end_on_the_wall_clock_of_the_morning_the_clocks_change() -> None:
    quiet = QuietHours()
    # Saturday 7 March 23:30 EST: the quiet hours end Sunday 08:00 EDT (12:00 UTC).
    assert out_of_quiet_hours(utc(2026, 3, 8, 4, 30), NEW_YORK, quiet) == utc(2026, 3, 8, 12, 0)
    # Saturday 31 October 22:00 EDT: they end Sunday 1 November 08:00 EST (13:00 UTC).
    assert out_of_quiet_hours(utc(2026, 11, 1, 2, 0), NEW_YORK, quiet) == utc(2026, 11, 1, 13, 0)
    # 01:30 happens twice that night; either way the end is the same 08:00 EST.
    assert out_of_quiet_hours(utc(2026, 11, 1, 5, 30), NEW_YORK, quiet) == utc(2026, 11, 1, 13, 0)
    assert out_of_quiet_hours(utc(2026, 11, 1, 6, 30), NEW_YORK, quiet) == utc(2026, 11, 1, 13, 0)
    # Outside them a moment is left alone; 21:00 is quiet, 08:00 is not.
    assert out_of_quiet_hours(utc(2026, 11, 2, 14, 0), NEW_YORK, quiet) == utc(2026, 11, 2, 14, 0)
    assert out_of_quiet_hours(utc(2026, 11, 3, 2, 0), NEW_YORK, quiet) == utc(2026, 11, 3, 13, 0)
    assert out_of_quiet_hours(utc(2026, 11, 3, 13, 0), NEW_YORK, quiet) == utc(2026, 11, 3, 13, 0)


def test_a_message_that_would_leave_after_the_visit_is_not_planned() -> None:
    late_night = utc(2026, 3, 11, 2, 0)  # Tuesday 22:00 EDT
    early_visit = utc(2026, 3, 11, 11, 30)  # Wednesday 07:30 EDT
    assert when([], plan(start=early_visit, now=late_night)) == []
    booked_the_day_before = utc(2026, 3, 9, 18, 0)  # 20.5 hours ahead: a confirmation only
    assert when([], plan(now=booked_the_day_before)) == [
        scheduled("confirmation", booked_the_day_before)
    ]


def test_the_text_names_the_site_and_time_and_nothing_clinical() -> None:
    text = message_text(
        "reminder_24h", "Elm Street Clinic", START.astimezone(NEW_YORK), "Confirm: https://x/c"
    )
    assert (
        text
        == "Reminder: your appointment at Elm Street Clinic on Tue 10 Mar 2026 at 10:30. Confirm: https://x/c"
    )
