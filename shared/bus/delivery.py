"""From records to envelopes, with poison records sent to the dead-letter topic.

A record is poison when it cannot be read as a CloudEvent, names an unknown event type, or its
handler fails for a reason other than an unavailable backend. Poison goes to
`medoffice.<ctx>.dlq` with the reason in headers, and the consumer carries on. An unavailable
backend is not poison: the error propagates, nothing is acknowledged, the batch comes again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

import structlog

from shared.bus.port import Bus, Ready
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
        }
    )
    topic = dead_letter_topic(message.topic)
    return message.model_copy(update={"topic": topic, "headers": headers})


@runtime_checkable
class StagedEnvelopeHandler(Protocol):
    """An envelope handler with effect-free work (decoding and validating the events) that
    may be done ahead of the batch's turn: see `shared.bus.port.Staged`."""

    def prepare(self, envelopes: Sequence[Envelope]) -> Ready: ...

    async def __call__(self, envelopes: Sequence[Envelope]) -> None: ...


class DeadLettering:
    """A record handler around an envelope handler that dead-letters poison records. Staged:
    reading the records into envelopes (and the envelope handler's own preparing, when it
    has some) may be done ahead of the batch's turn."""

    def __init__(self, bus: Bus, group: str, handler: EnvelopeHandler) -> None:
        self._bus = bus
        self._group = group
        self._handler = handler
        self._staged = handler if isinstance(handler, StagedEnvelopeHandler) else None

    async def __call__(self, messages: Sequence[Message]) -> None:
        await self.prepare(messages)()

    def prepare(self, messages: Sequence[Message]) -> Ready:
        readable: list[tuple[Message, Envelope]] = []
        malformed: list[tuple[Message, MalformedMessage]] = []
        for message in messages:
            try:
                readable.append((message, from_message(message)))
            except MalformedMessage as exc:
                malformed.append((message, exc))
        envelopes = [envelope for _, envelope in readable]
        handler = self._handler
        ready: Ready
        if self._staged is not None:
            ready = self._staged.prepare(envelopes)
        else:

            async def ready() -> None:
                await handler(envelopes)

        async def handle() -> None:
            for message, exc in malformed:
                await self._send_to_dlq(message, exc)
            try:
                await ready()
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
                    await self._send_to_dlq(message, exc)

        return handle

    async def _send_to_dlq(self, message: Message, error: BaseException) -> None:
        log.warning(
            "event_dead_lettered",
            group=self._group,
            topic=message.topic,
            offset=message.offset,
            ce_type=message.headers.get("ce_type"),
            error_type=type(error).__name__,
        )
        await self._bus.publish([dead_letter(message, self._group, error)])


def with_dead_letters(bus: Bus, group: str, handler: EnvelopeHandler) -> DeadLettering:
    """Wrap an envelope handler into a record handler that dead-letters poison records."""
    return DeadLettering(bus, group, handler)
