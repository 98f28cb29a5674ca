"""What happens after a message is handed to its channel: sent, or failed and retried with
back-off until `RetryPolicy.max_attempts`, then given up (reported); a bounce (a bad address)
is never retried. Pure: the time of the outcome is an input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.engagement.domain.events import (
    Channel,
    MessageBounced,
    MessageDeliveryFailed,
    MessageGivenUp,
    MessageRetried,
    MessageSent,
)
from shared.events import DomainEvent


@dataclass(frozen=True)
class RetryPolicy:
    """`delays[n]` is the wait before attempt n + 2 (after attempt n + 1 failed): the default
    retries after 5 minutes, 30 minutes and 2 hours, then gives up after 4 attempts."""

    delays: tuple[timedelta, ...] = (
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
    )

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def retry_at(self, failed_attempt: int, failed_at: datetime) -> datetime | None:
        """When attempt `failed_attempt + 1` goes, or None: give up."""
        if failed_attempt >= self.max_attempts:
            return None
        return failed_at + self.delays[failed_attempt - 1]


Outcome = Literal["sent", "failed", "bounced"]


@dataclass(frozen=True)
class InFlight:
    """The attempt a channel is answering for."""

    message_id: str
    patient_id: str
    channel: Channel
    attempt: int


def after_attempt(
    flight: InFlight, outcome: Outcome, reason: str, at: datetime, policy: RetryPolicy
) -> Sequence[DomainEvent]:
    """The events for the channel's answer to one attempt."""
    ids = {"message_id": flight.message_id, "patient_id": flight.patient_id}
    if outcome == "sent":
        return [MessageSent(**ids, channel=flight.channel, attempt=flight.attempt, sent_at=at)]
    if outcome == "bounced":
        return [MessageBounced(**ids, channel=flight.channel, reason=reason, bounced_at=at)]
    failed = MessageDeliveryFailed(
        **ids, channel=flight.channel, attempt=flight.attempt, reason=reason, failed_at=at
    )
    retry_at = policy.retry_at(flight.attempt, at)
    if retry_at is None:
        return [failed, MessageGivenUp(**ids, attempts=flight.attempt, given_up_at=at)]
    return [failed, MessageRetried(**ids, attempt=flight.attempt + 1, retry_at=retry_at)]
