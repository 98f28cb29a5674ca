"""From records to envelopes, with poison records sent to the dead-letter topic.

A record is poison when it cannot be read as a CloudEvent, names an unknown event type, or its
handler fails for a reason other than an unavailable backend. Poison goes to
`medoffice.<ctx>.dlq` with the reason in headers, and the consumer carries on. An unavailable
backend is not poison: the error propagates, nothing is acknowledged, the batch comes again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import structlog

from shared.bus.port import Bus, MessageHandler
from shared.cloudevents import MalformedMessage, Message, dead_letter_topic, from_message
from shared.errors import RetryLater
from shared.events import Envelope

EnvelopeHandler = Callable[[Sequence[Envelope]], Awaitable[None]]

TRANSIENT: tuple[type[BaseException], ...] = (RetryLater, OSError)

log = structlog.get_logger(__name__)


def dead_letter(message: Message, group: str, error: BaseException) -> Message:
    headers = dict(message.headers)
    headers.update(
        {
            "dlq_reason": str(error)[:500],
            "dlq_error_type": type(error).__name__,
            "dlq_group": group,
            "dlq_topic": message.topic,
            "dlq_partition": str(message.partition),
            "dlq_offset": str(message.offset),
            # When, for operators listing dead letters (not a domain time: no clock port here).
            "dlq_at": datetime.now(UTC).isoformat(),
        }
    )
    topic = dead_letter_topic(message.topic)
    return message.model_copy(update={"topic": topic, "headers": headers})


def with_dead_letters(bus: Bus, group: str, handler: EnvelopeHandler) -> MessageHandler:
    """Wrap an envelope handler into a record handler that dead-letters poison records."""

    async def send_to_dlq(message: Message, error: BaseException) -> None:
        log.warning(
            "event_dead_lettered",
            group=group,
            topic=message.topic,
            offset=message.offset,
            ce_type=message.headers.get("ce_type"),
            error_type=type(error).__name__,
        )
        await bus.publish([dead_letter(message, group, error)])

    async def handle(messages: Sequence[Message]) -> None:
        readable: list[tuple[Message, Envelope]] = []
        for message in messages:
            try:
                readable.append((message, from_message(message)))
            except MalformedMessage as exc:
                await send_to_dlq(message, exc)
        try:
            await handler([envelope for _, envelope in readable])
            return
        except TRANSIENT:
            raise
        except Exception:  # noqa: BLE001 - find the poison record one by one below
            pass
        for message, envelope in readable:
            try:
                await handler([envelope])
            except TRANSIENT:
                raise
            except Exception as exc:  # noqa: BLE001 - poison: park it and carry on
                await send_to_dlq(message, exc)

    return handle
