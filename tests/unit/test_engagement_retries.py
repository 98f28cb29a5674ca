"""A message handed to its channel: sent; or failed and retried with back-off, then given up
after the last attempt; or bounced and never retried. An answer recorded twice counts once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.engagement.domain.consent import Consent
from services.engagement.domain.delivery import LEASE, FireMessage, RecordOutcome
from services.engagement.domain.events import (
    MessageBounced,
    MessageDeliveryFailed,
    MessageGivenUp,
    MessageReleased,
    MessageRetried,
    MessageSent,
)
from services.engagement.domain.reminders import (
    AppointmentCommand,
    PlanMessages,
    appointment_messages,
    message_id,
)
from services.engagement.domain.retries import RetryPolicy
from shared.events import DomainEvent

SMS = Consent(opted_in=frozenset({"sms"}))
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
START = datetime(2026, 3, 20, 14, 30, tzinfo=UTC)
CONFIRMATION = message_id("ap-1", "confirmation", START)
PLANNED = list(
    appointment_messages.decide(
        appointment_messages.initial,
        PlanMessages(
            appointment_id="ap-1",
            patient_id="pt-1",
            site_id="site-1",
            start=START,
            zone=ZoneInfo("America/New_York"),
            consent=SMS,
            now=NOW,
        ),
    )
)
IDS = {"message_id": CONFIRMATION, "patient_id": "pt-1"}


def when(given: Sequence[DomainEvent], command: AppointmentCommand) -> Sequence[DomainEvent]:
    return appointment_messages.decide(appointment_messages.fold(given), command)


def fire(at: datetime) -> FireMessage:
    return FireMessage(message_id=CONFIRMATION, consent=SMS, now=at)


def answer(attempt: int, outcome: str, at: datetime, reason: str = "") -> RecordOutcome:
    return RecordOutcome.model_validate(
        {
            "message_id": CONFIRMATION,
            "attempt": attempt,
            "outcome": outcome,
            "reason": reason,
            "now": at,
        }
    )


def test_the_default_policy_backs_off_then_gives_up_after_four_attempts() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 4
    assert policy.retry_at(1, NOW) == NOW + timedelta(minutes=5)
    assert policy.retry_at(2, NOW) == NOW + timedelta(minutes=30)
    assert policy.retry_at(3, NOW) == NOW + timedelta(hours=2)
    assert policy.retry_at(4, NOW) is None


def test_a_sent_message_is_recorded_once() -> None:
    given = [*PLANNED, *when(PLANNED, fire(NOW))]
    sent = when(given, answer(1, "sent", NOW))
    assert sent == [MessageSent(**IDS, channel="sms", attempt=1, sent_at=NOW)]
    assert when([*given, *sent], answer(1, "sent", NOW)) == []  # the answer redelivered
    assert when([*given, *sent], fire(NOW)) == []


def test_failures_are_retried_with_back_off_then_given_up() -> None:
    history: list[DomainEvent] = list(PLANNED)
    at = NOW
    for attempt in range(1, 5):
        released = when(history, fire(at))
        assert released == [
            MessageReleased(
                **IDS, channel="sms", attempt=attempt, released_at=at, lease_until=at + LEASE
            )
        ]
        history += released
        failed = when(history, answer(attempt, "failed", at, reason="421 try later"))
        history += failed
        last = MessageDeliveryFailed(
            **IDS, channel="sms", attempt=attempt, reason="421 try later", failed_at=at
        )
        if attempt < 4:
            retry_at = RetryPolicy().retry_at(attempt, at)
            assert retry_at is not None
            assert failed == [last, MessageRetried(**IDS, attempt=attempt + 1, retry_at=retry_at)]
            assert when(history, fire(retry_at - timedelta(seconds=1))) == []  # not yet
            at = retry_at
        else:
            assert failed == [last, MessageGivenUp(**IDS, attempts=4, given_up_at=at)]
    assert when(history, fire(at + timedelta(days=1))) == []


def test_a_bounce_is_never_retried() -> None:
    given = [*PLANNED, *when(PLANNED, fire(NOW))]
    bounced = when(given, answer(1, "bounced", NOW, reason="unknown number"))
    assert bounced == [
        MessageBounced(**IDS, channel="sms", reason="unknown number", bounced_at=NOW)
    ]
    assert when([*given, *bounced], fire(NOW + timedelta(hours=3))) == []


def test_an_answer_for_an_attempt_long_gone_is_ignored() -> None:
    given = [*PLANNED, *when(PLANNED, fire(NOW))]
    assert when(given, answer(2, "sent", NOW)) == []
