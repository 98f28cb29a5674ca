"""Pure helpers shared by the event store adapters: version checks and envelope encoding."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared.events import Envelope


def check_versions(stream: str, events: Sequence[Envelope], expected_version: int) -> None:
    """Refuse envelopes that do not continue the stream from `expected_version`."""
    if not events:
        raise ValueError("a commit needs at least one event")
    for offset, event in enumerate(events, start=1):
        if event.stream != stream or event.stream_version != expected_version + offset:
            raise ValueError(
                f"event {event.id} is {event.stream}@{event.stream_version}, "
                f"expected {stream}@{expected_version + offset}"
            )


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ValueError(f"limit {limit} is not positive")


def envelope_record(event: Envelope) -> dict[str, Any]:
    """The stored form of an envelope: JSON-compatible, without its position."""
    return event.model_dump(mode="json", exclude={"position"})


def envelope_from_record(record: dict[str, Any], position: int) -> Envelope:
    return Envelope.model_validate({**record, "position": position})


def encode_events(events: Sequence[Envelope]) -> str:
    """All envelopes of a commit as one JSON array."""
    return json.dumps([envelope_record(e) for e in events])


def decode_events(raw: str, position: int) -> tuple[Envelope, ...]:
    return tuple(envelope_from_record(e, position) for e in json.loads(raw))


def check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """A commit's tags, each once, in a stable order; an empty tag is refused."""
    if isinstance(tags, str):
        raise ValueError("tags are a sequence of strings, not one string")
    if any(not isinstance(tag, str) or not tag for tag in tags):
        raise ValueError(f"a tag is a non-empty string: {list(tags)!r}")
    return tuple(sorted(set(tags)))
