"""Pure helpers shared by the event store adapters: version checks and envelope encoding.

A commit is stored as one JSON array of its envelopes without their position. Since orjson it
is compact UTF-8 (it was `json.dumps`'s spaced ASCII): both decode alike, and
tests/unit/test_encoding_compat.py holds a commit written the old way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import PydanticSerializationError

from shared import fastjson
from shared.events import Envelope

_COMMIT = TypeAdapter(list[Envelope])
_STORED = {"__all__": {"position"}}
_VALIDATOR = Envelope.__pydantic_validator__


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
    try:
        return _COMMIT.dump_json(list(events), exclude=_STORED).decode()
    except PydanticSerializationError:  # text that is not UTF-8 (a lone surrogate): escaped
        return fastjson.dumps_text([envelope_record(e) for e in events])


def decode_events(raw: str | bytes, position: int) -> tuple[Envelope, ...]:
    """The envelopes of a stored commit, validated again (pydantic-core validates faster than
    `model_construct` builds, so the store's own bytes get no shortcut)."""
    records = fastjson.loads(raw)
    for record in records:
        record["position"] = position
    return tuple(_VALIDATOR.validate_python(record) for record in records)


def check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """A commit's tags, each once, in a stable order; an empty tag is refused."""
    if isinstance(tags, str):
        raise ValueError("tags are a sequence of strings, not one string")
    if any(not isinstance(tag, str) or not tag for tag in tags):
        raise ValueError(f"a tag is a non-empty string: {list(tags)!r}")
    return tuple(sorted(set(tags)))
