"""Messages that stand alone (a recall's, a survey's), given events, when a command, then
events: scheduled once out of quiet hours on the patient's channel, released when due unless
the patient opted out since, then sent or retried like an appointment's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.engagement.domain.consent import Consent
from services.engagement.domain.delivery import (
    LEASE,
    FireMessage,
    MessageCommand,
    RecordOutcome,
    ScheduleMessage,
    message_delivery,
)
from services.engagement.domain.events import (
    MessageCancelled,
    MessageDeliveryFailed,
    MessageReleased,
    MessageRetried,
    MessageScheduled,
    MessageSent,
)
from shared.domain import Invalid, NotFound
from shared.events import DomainEvent

EMAIL = Consent(opted_in=frozenset({"email"}))
EVENING = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)  # Monday 21:30 EST
MORNING = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # Tuesday 08:00 EST
SCHEDULE = ScheduleMessage(
    message_id="recall-pt-1-2026",
    patient_id="pt-1",
    site_id="site-1",
    purpose="recall",
    at=EVENING,
    zone=ZoneInfo("America/New_York"),
    consent=EMAIL,
)
SCHEDULED = MessageScheduled(
    message_id="recall-pt-1-2026",
    patient_id="pt-1",
    site_id="site-1",
    purpose="recall",
    channel="email",
    send_at=MORNING,
)
IDS = {"message_id": "recall-pt-1-2026", "patient_id": "pt-1"}
RELEASED = MessageReleased(
    **IDS, channel="email", attempt=1, released_at=MORNING, lease_until=MORNING + LEASE
)


def when(given: Sequence[DomainEvent], command: MessageCommand) -> Sequence[DomainEvent]:
    return message_delivery.decide(message_delivery.fold(given), command)


def test_a_recall_message_is_scheduled_once_out_of_quiet_hours() -> None:
    assert when([], SCHEDULE) == [SCHEDULED]
    assert when([SCHEDULED], SCHEDULE) == []


def test_nothing_is_scheduled_for_a_patient_without_a_channel() -> None:
    assert when([], SCHEDULE.model_copy(update={"consent": Consent()})) == []


def test_an_appointments_messages_are_not_scheduled_alone() -> None:
    with pytest.raises(Invalid):
        when([], SCHEDULE.model_copy(update={"purpose": "reminder_24h"}))


def test_it_is_released_when_due_and_sent_once() -> None:
    fire = FireMessage(message_id=SCHEDULE.message_id, consent=EMAIL, now=MORNING)
    assert when([SCHEDULED], fire.model_copy(update={"now": MORNING - timedelta(minutes=1)})) == []
    assert when([SCHEDULED], fire) == [RELEASED]
    assert when([SCHEDULED, RELEASED], fire) == []
    sent = RecordOutcome(message_id=SCHEDULE.message_id, attempt=1, outcome="sent", now=MORNING)
    assert when([SCHEDULED, RELEASED], sent) == [
        MessageSent(**IDS, channel="email", attempt=1, sent_at=MORNING)
    ]


def test_a_patient_who_opted_out_since_is_sent_nothing() -> None:
    fire = FireMessage(message_id=SCHEDULE.message_id, consent=Consent(), now=MORNING)
    cancelled = when([SCHEDULED], fire)
    assert cancelled == [MessageCancelled(**IDS, reason="opted_out", cancelled_at=MORNING)]
    assert when([SCHEDULED, *cancelled], fire.model_copy(update={"consent": EMAIL})) == []


def test_a_release_never_answered_is_offered_again_when_its_lease_is_over() -> None:
    fire = FireMessage(message_id=SCHEDULE.message_id, consent=EMAIL, now=MORNING)
    leased = MORNING + LEASE - timedelta(seconds=1)
    assert when([SCHEDULED, RELEASED], fire.model_copy(update={"now": leased})) == []
    over = MORNING + LEASE
    again = when([SCHEDULED, RELEASED], fire.model_copy(update={"now": over}))
    # The same attempt: the channel is told the same message id and attempt as the first time.
    assert again == [
        MessageReleased(
            **IDS, channel="email", attempt=1, released_at=over, lease_until=over + LEASE
        )
    ]
    # The first sender's late answer, or the second's, is recorded once.
    sent = RecordOutcome(message_id=SCHEDULE.message_id, attempt=1, outcome="sent", now=over)
    answered = when([SCHEDULED, RELEASED, *again], sent)
    assert answered == [MessageSent(**IDS, channel="email", attempt=1, sent_at=over)]
    assert when([SCHEDULED, RELEASED, *again, *answered], sent) == []
    later = fire.model_copy(update={"now": over + 2 * LEASE})
    assert when([SCHEDULED, RELEASED, *again, *answered], later) == []


def test_a_release_never_answered_is_cancelled_if_the_patient_opted_out_since() -> None:
    fire = FireMessage(message_id=SCHEDULE.message_id, consent=Consent(), now=MORNING + LEASE)
    assert when([SCHEDULED, RELEASED], fire) == [
        MessageCancelled(**IDS, reason="opted_out", cancelled_at=MORNING + LEASE)
    ]


def test_a_failure_is_retried() -> None:
    failed = RecordOutcome(
        message_id=SCHEDULE.message_id, attempt=1, outcome="failed", reason="timeout", now=MORNING
    )
    assert when([SCHEDULED, RELEASED], failed) == [
        MessageDeliveryFailed(
            **IDS, channel="email", attempt=1, reason="timeout", failed_at=MORNING
        ),
        MessageRetried(**IDS, attempt=2, retry_at=MORNING + timedelta(minutes=5)),
    ]


def test_a_message_never_scheduled_is_not_found() -> None:
    with pytest.raises(NotFound):
        when([], FireMessage(message_id="m-x", consent=EMAIL, now=MORNING))
