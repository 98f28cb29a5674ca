"""One live tail: the bus followed into a bounded buffer, filtered, and written out as
Server-Sent Events with the data's PHI shown sealed.

A watch never slows the bus down: its follower only ever puts into a bounded buffer without
waiting, and when the client has let the buffer fill up the watch ends, the client being told
with a last `event: overflow`. Leaving the watch (the client gone, the stream cancelled, the
limit reached) stops the follower, which releases what the bus held for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import structlog

from shared.bus.port import Bus
from shared.cloudevents import MalformedMessage, Message, from_message
from shared.events import Envelope

log = structlog.get_logger(__name__)

SEALED = {"sealed": True}


@dataclass(frozen=True)
class TailFilter:
    """What a watcher wants to see; each given criterion must hold (None: any)."""

    tenant: str | None = None
    type: str | None = None
    stream: str | None = None
    correlation_id: str | None = None

    def keeps(self, envelope: Envelope) -> bool:
        if self.tenant is not None and envelope.tenant != self.tenant:
            return False
        if self.stream is not None and envelope.stream != self.stream:
            return False
        if self.correlation_id is not None and envelope.correlation_id != self.correlation_id:
            return False
        return self.type is None or self.type in (envelope.type, _short_type(envelope.type))

    @property
    def narrowed(self) -> bool:
        return any(
            v is not None for v in (self.tenant, self.type, self.stream, self.correlation_id)
        )


def _short_type(type_name: str) -> str:
    """`medoffice.scheduling.AppointmentBooked.v1` -> `AppointmentBooked`."""
    parts = type_name.split(".")
    return parts[2] if len(parts) == 4 else type_name


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and value.get("phi") == 1 and "ct" in value


def _sealed(value: Any) -> Any:
    """`value` with every sealed PHI value in it (at any depth) replaced by a mark."""
    if _is_sealed(value):
        return SEALED
    if isinstance(value, dict):
        return {k: _sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sealed(v) for v in value]
    return value


def shown(envelope: Envelope, message: Message) -> dict[str, Any]:
    """An event as a watcher sees it: CloudEvent attributes, and its data with the fields the
    producer declares PHI (and any sealed value besides) shown as `{"sealed": true}`: a watch
    never opens a patient's data, it only says that something sealed is there."""
    data = {k: SEALED if k in envelope.phi else _sealed(v) for k, v in envelope.data.items()}
    return {
        "id": envelope.id,
        "type": envelope.type,
        "source": envelope.source,
        "subject": envelope.subject,
        "time": envelope.time.isoformat(),
        "context": envelope.context,
        "tenant": envelope.tenant,
        "site": envelope.site,
        "stream": envelope.stream,
        "stream_version": envelope.stream_version,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "actor": envelope.actor,
        "phi": list(envelope.phi),
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "data": data,
    }


def frame(data: dict[str, Any], *, event: str | None = None, event_id: str | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), default=str))
    return "\n".join(lines) + "\n\n"


class Watch:
    """Started (`start`) before the answer begins, so an unreachable bus is a 503 and the
    position is taken; then `frames()` is the body. `close()` may be called any number of
    times, from anywhere."""

    def __init__(
        self,
        bus: Bus,
        topics: list[str],
        keep: TailFilter,
        *,
        buffer: int,
        heartbeat: float,
        limit: int | None,
    ) -> None:
        self._bus = bus
        self._topics = topics
        self._keep = keep
        self._heartbeat = heartbeat
        self._limit = limit
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=buffer)
        self._overflowed = False
        self._ended = False
        self._cancelled = False
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._follower: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._follower = asyncio.create_task(self._follow(), name="events-tail")
        try:
            await asyncio.shield(self._ready)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the follower and end `frames()`. The follower leaves the bus in its own task,
        which nothing cancels again, so a Kafka consumer is stopped in full even when the
        caller's task is itself being cancelled. Safe to call any number of times."""
        # Cancelled once only: a second cancel would cut the follower's leaving short (a Kafka
        # consumer's stop, half done, leaves its sockets open).
        if self._follower is not None and not self._cancelled:
            self._cancelled = True
            self._follower.cancel()
        self._end()

    def _end(self) -> None:
        self._ended = True
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait("")  # wakes `frames()` up

    async def frames(self) -> AsyncIterator[str]:
        sent = 0
        try:
            yield ": following\n\n"  # the position is taken: what is published from now on
            while self._limit is None or sent < self._limit:
                if self._overflowed:
                    yield frame({"reason": "the client did not keep up"}, event="overflow")
                    return
                if self._ended and self._queue.empty():
                    return
                try:
                    async with asyncio.timeout(self._heartbeat):
                        chunk = await self._queue.get()
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                if chunk:  # an empty one only wakes this loop up
                    sent += 1
                    yield chunk
        finally:
            self.close()

    async def _follow(self) -> None:
        try:
            async with self._bus.follow(self._topics) as records:
                self._ready.set_result(None)
                async for message in records:
                    chunk = self._render(message)
                    if chunk is None:
                        continue
                    try:
                        self._queue.put_nowait(chunk)
                    except asyncio.QueueFull:
                        # Never wait for a slow client: drop it, and say so.
                        log.warning("events_tail_overflow", buffered=self._queue.qsize())
                        self._overflowed = True
                        return
        except Exception as exc:  # noqa: BLE001 - said to the caller, or the watch ends
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                log.warning("events_tail_lost", error_type=type(exc).__name__)
        finally:
            self._end()

    def _render(self, message: Message) -> str | None:
        try:
            envelope = from_message(message)
        except MalformedMessage as exc:
            if self._keep.narrowed:
                return None
            about = {"topic": message.topic, "offset": message.offset, "reason": str(exc)}
            return frame(about, event="malformed")
        if not self._keep.keeps(envelope):
            return None
        return frame(shown(envelope, message), event_id=envelope.id)
