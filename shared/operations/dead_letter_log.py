"""Dead letters for operators: what each context's dead-letter topic holds, and what was done
with each record (replayed, discarded), recorded as events with the operator's identity.

A dead letter is a record of `<ns>medoffice.<context>.dlq`, named `<context>.<partition>.<offset>`
(its place in that topic, so a record that fails again after a replay comes back under a new
id). The topic itself is only read; what operators did is kept in the `operations` event store,
one stream per dead letter, tagged by context: a dead letter with any event there has left the
list.

Replay republishes the original record, as it was (minus the dead-letter headers, plus
`replayed_from`), to its original topic: the normal path, so every consumer group of the topic
gets it again, whichever process runs it, and the one that failed handles it now. The others
have it already and skip it, like any redelivery (projections by per-stream version, the audit
ledger and reactions by event id): replayed twice, applied once.

PHI stays sealed: a record's data is shown with its PHI fields (those `ce_phi` names, and any
value in the sealed form) replaced by a mark, never opened.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from shared.bus.port import Bus, ReadRecord
from shared.cloudevents import Message, dead_letter_topic, events_topic
from shared.events import Envelope
from shared.eventstore.port import ConcurrencyConflict
from shared.operations.events import DeadLetterDiscarded, DeadLetterReplayed
from shared.operations.operator_log import OperatorLog

ID_PATTERN = r"^[a-z][a-z_]{0,39}\.[0-9]{1,9}\.[0-9]{1,18}$"
SEALED_MARK = {"sealed": True}
REPLAYED_FROM = "replayed_from"
_PAGE = 200


class UnknownContext(LookupError):
    """No context of that name runs here."""


class NoDeadLetter(LookupError):
    """No dead letter of that id."""


class NotReplayable(Exception):
    """The dead letter was discarded, or its record names a topic not its context's."""


class AlreadySettled(Exception):
    """The dead letter was replayed or discarded already."""


Resume = tuple[str, str | None]  # the context to read on, and the position in it


@dataclass(frozen=True)
class Page:
    """Dead letters still to settle, and where the next page starts (None: nothing more)."""

    items: list[dict[str, Any]]
    resume: Resume | None


def letter_id(message: Message, context: str) -> str:
    return f"{context}.{message.partition or 0}.{message.offset or 0}"


def stream_of(dead_letter_id: str) -> str:
    return f"dead-letter-{dead_letter_id}"


def tag_of(context: str) -> str:
    return f"dead-letters:{context}"


def sealed_data(message: Message) -> Any:
    """The record's data with its PHI sealed-marked; None when the value is not JSON."""
    try:
        data = orjson.loads(message.value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return data
    named = {f for f in message.headers.get("ce_phi", "").split(",") if f}
    return {k: SEALED_MARK if k in named else _seal_marked(v) for k, v in data.items()}


def _seal_marked(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("phi") == 1 and "ct" in value:
            return SEALED_MARK
        return {k: _seal_marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_seal_marked(v) for v in value]
    return value


def summary(message: Message, context: str) -> dict[str, Any]:
    """What the list shows of a dead letter: where it came from, why it failed, what it is."""
    h = message.headers
    return {
        "id": letter_id(message, context),
        "context": context,
        "topic": h.get("dlq_topic"),
        "group": h.get("dlq_group"),
        "reason": {"error_type": h.get("dlq_error_type"), "message": h.get("dlq_reason")},
        "event_id": h.get("ce_id"),
        "type": h.get("ce_type"),
        "stream": message.key or h.get("ce_stream"),
        "tenant": h.get("ce_tenant"),
        "correlation_id": h.get("ce_correlationid"),
        "time": h.get("ce_time"),
        "dead_lettered_at": h.get("dlq_at"),
        "original": {"partition": h.get("dlq_partition"), "offset": h.get("dlq_offset")},
        "replayed_from": h.get(REPLAYED_FROM),
    }


def detail(message: Message, context: str, history: Sequence[Envelope]) -> dict[str, Any]:
    """One dead letter: its summary, CloudEvent attributes, sealed data and what was done."""
    attributes = {
        name.removeprefix("ce_"): value
        for name, value in message.headers.items()
        if name.startswith("ce_")
    }
    return {
        **summary(message, context),
        "attributes": attributes,
        "content_type": message.headers.get("content-type"),
        "size": len(message.value),
        "data": sealed_data(message),
        "state": state(history),
        "history": [
            {"type": e.type.split(".")[-2], "at": e.time.isoformat(), **e.data} for e in history
        ],
    }


def state(history: Sequence[Envelope]) -> str:
    types = {e.type for e in history}
    if DeadLetterDiscarded.type_name() in types:
        return "discarded"
    if DeadLetterReplayed.type_name() in types:
        return "replayed"
    return "dead"


def original(message: Message, dead_letter_id: str) -> Message:
    """The record as it was first published, marked as the replay of `dead_letter_id`."""
    headers = {k: v for k, v in message.headers.items() if not k.startswith("dlq_")}
    headers[REPLAYED_FROM] = dead_letter_id
    return Message(
        topic=message.headers.get("dlq_topic", ""),
        key=message.key,
        headers=headers,
        value=message.value,
    )


class DeadLetters:
    """The dead letters of the contexts a process runs, read from the bus, settled by events."""

    def __init__(
        self,
        bus: Bus,
        log: OperatorLog,
        contexts: Sequence[str],
        namespace: str,
    ) -> None:
        self._bus = bus
        self._log = log
        self._store = log.store
        self._topics = {
            c: dead_letter_topic(events_topic(c, namespace=namespace)) for c in contexts
        }
        self._events_topics = {c: events_topic(c, namespace=namespace) for c in contexts}

    @property
    def contexts(self) -> list[str]:
        return list(self._topics)

    async def page(self, contexts: Sequence[str], resume: Resume | None, limit: int) -> Page:
        """Up to `limit` dead letters still to settle, context after context, from `resume`
        (one of `contexts` and a position in its topic)."""
        for context in contexts:
            self._topic(context)
        first, position = resume if resume is not None else (contexts[0], None)
        if first not in contexts:
            raise UnknownContext(first)
        items: list[dict[str, Any]] = []
        todo = list(contexts[contexts.index(first) :])
        for index, context in enumerate(todo):
            settled = set(await self._store.streams_tagged(tag_of(context)))
            while True:
                read = await self._bus.read(self._topic(context), position, limit)
                for record in read.records:
                    position = record.position
                    if _is_settled(record, context, settled):
                        continue
                    items.append(summary(record.message, context))
                    if len(items) < limit:
                        continue
                    if not (read.at_end and record is read.records[-1]):
                        return Page(items, (context, position))
                    rest = todo[index + 1 :]
                    return Page(items, (rest[0], None) if rest else None)
                if read.at_end:
                    break
            position = None
        return Page(items, None)

    async def find(self, dead_letter_id: str) -> tuple[Message, str, list[Envelope]]:
        """The record of a dead letter, its context and what was done with it."""
        context, partition, offset = _parts(dead_letter_id)
        if context not in self._topics:
            raise NoDeadLetter(dead_letter_id)
        position: str | None = None
        while True:
            read = await self._bus.read(self._topic(context), position, _PAGE)
            for record in read.records:
                m = record.message
                if (m.partition or 0) == partition and m.offset == offset:
                    return m, context, await self._store.load(stream_of(dead_letter_id))
            if read.at_end:
                raise NoDeadLetter(dead_letter_id)
            position = read.position

    async def show(self, dead_letter_id: str) -> dict[str, Any]:
        message, context, history = await self.find(dead_letter_id)
        return detail(message, context, history)

    async def replay(self, dead_letter_id: str, operator: str) -> dict[str, Any]:
        """Send the record again to its original topic; again when replayed already (the
        consumers skip what they handled), never once discarded."""
        message, context, history = await self.find(dead_letter_id)
        if state(history) == "discarded":
            raise NotReplayable(f"dead letter {dead_letter_id} was discarded")
        await self._republish([(message, context)])
        await self._record_replay(message, context, operator)
        return detail(message, context, await self._store.load(stream_of(dead_letter_id)))

    async def replay_all(self, context: str, operator: str) -> list[str]:
        """Replay every dead letter of `context` still to settle; each record once, though
        several groups dead-lettered it."""
        letters: list[Message] = []
        settled = set(await self._store.streams_tagged(tag_of(context)))
        position: str | None = None
        while True:
            read = await self._bus.read(self._topic(context), position, _PAGE)
            letters += [r.message for r in read.records if not _is_settled(r, context, settled)]
            if read.at_end:
                break
            position = read.position
        await self._republish([(m, context) for m in letters])
        for message in letters:
            await self._record_replay(message, context, operator)
        return [letter_id(m, context) for m in letters]

    async def discard(self, dead_letter_id: str, reason: str, operator: str) -> dict[str, Any]:
        message, context, history = await self.find(dead_letter_id)
        if history:
            raise AlreadySettled(f"dead letter {dead_letter_id} was {state(history)} already")
        event = DeadLetterDiscarded(
            dead_letter_id=dead_letter_id,
            letter_context=context,
            reason=reason,
            operator=operator,
        )
        try:
            await self._record(event, context, operator, expected_version=0)
        except ConcurrencyConflict:
            raise AlreadySettled(f"dead letter {dead_letter_id} was settled meanwhile") from None
        return detail(message, context, await self._store.load(stream_of(dead_letter_id)))

    async def _republish(self, letters: Sequence[tuple[Message, str]]) -> None:
        originals: dict[tuple[str | None, ...], Message] = {}
        for message, context in letters:
            h = message.headers
            if h.get("dlq_topic") != self._events_topics[context]:
                raise NotReplayable(
                    f"dead letter {letter_id(message, context)} names topic "
                    f"{h.get('dlq_topic')!r}, not {context}'s events"
                )
            origin = (h.get("dlq_topic"), h.get("dlq_partition"), h.get("dlq_offset"))
            originals.setdefault(origin, original(message, letter_id(message, context)))
        await self._bus.publish(list(originals.values()))

    async def _record_replay(self, message: Message, context: str, operator: str) -> None:
        event = DeadLetterReplayed(
            dead_letter_id=letter_id(message, context),
            letter_context=context,
            topic=message.headers.get("dlq_topic", ""),
            event_id=message.headers.get("ce_id"),
            operator=operator,
        )
        await self._record(event, context, operator)

    async def _record(
        self,
        event: DeadLetterReplayed | DeadLetterDiscarded,
        context: str,
        operator: str,
        expected_version: int | None = None,
    ) -> None:
        await self._log.record(
            stream_of(event.dead_letter_id),
            event,
            operator=operator,
            subject=event.dead_letter_id,
            tags=[tag_of(context)],
            expected_version=expected_version,
        )

    def _topic(self, context: str) -> str:
        topic = self._topics.get(context)
        if topic is None:
            raise UnknownContext(context)
        return topic


def _is_settled(record: ReadRecord, context: str, settled: set[str]) -> bool:
    return stream_of(letter_id(record.message, context)) in settled


def _parts(dead_letter_id: str) -> tuple[str, int, int]:
    if not re.match(ID_PATTERN, dead_letter_id):
        raise NoDeadLetter(dead_letter_id)
    context, partition, offset = dead_letter_id.split(".")
    return context, int(partition), int(offset)
