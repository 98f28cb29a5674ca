"""CloudEvents 1.0 Kafka protocol binding, binary mode: attributes in `ce_*` headers, data as value.

Extension attribute names follow the spec (lower-case letters and digits only), so any CloudEvents
SDK or a plain Kafka client reads them: tenant, site, stream, streamversion, position,
correlationid, causationid, actor, traceparent, and phi: the data fields the producer declares
PHI (sealed), comma-separated, present only when there are any.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from shared import fastjson
from shared.events import Envelope

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

_EXTENSIONS = {
    "tenant": "tenant",
    "site": "site",
    "stream": "stream",
    "streamversion": "stream_version",
    "position": "position",
    "correlationid": "correlation_id",
    "causationid": "causation_id",
    "actor": "actor",
    "traceparent": "traceparent",
}

_EXTENSION_HEADERS = tuple((f"ce_{name}", field) for name, field in _EXTENSIONS.items())
# Every envelope field read from a header of its own, in the order they were read one by one.
_FIELD_HEADERS = (
    ("ce_id", "id"),
    ("ce_type", "type"),
    ("ce_source", "source"),
    ("ce_subject", "subject"),
    ("ce_time", "time"),
    *_EXTENSION_HEADERS,
)


class Message(BaseModel):
    """A record on the bus, as Kafka holds it: topic, key, string headers, bytes value."""

    model_config = ConfigDict(frozen=True)

    topic: str
    key: str
    headers: dict[str, str]
    value: bytes
    partition: int | None = None
    offset: int | None = None


class MalformedMessage(Exception):
    """A bus record that is not a CloudEvent we can read."""


def events_topic(context: str, namespace: str = "") -> str:
    return f"{namespace}medoffice.{context}.events"


def dead_letter_topic(topic: str) -> str:
    return topic.removesuffix(".events") + ".dlq"


def to_message(envelope: Envelope, topic: str) -> Message:
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": envelope.id,
        "ce_source": envelope.source,
        "ce_type": envelope.type,
        "ce_time": envelope.time.isoformat(),
        "content-type": CONTENT_TYPE,
    }
    if envelope.subject is not None:
        headers["ce_subject"] = envelope.subject
    for name, field in _EXTENSIONS.items():
        value = getattr(envelope, field)
        if value is not None:
            headers[f"ce_{name}"] = str(value)
    if envelope.phi:
        headers["ce_phi"] = ",".join(envelope.phi)
    return Message(
        topic=topic,
        key=envelope.stream,
        headers=headers,
        value=fastjson.dumps(envelope.data),
    )


def from_message(message: Message) -> Envelope:
    headers = message.headers
    if headers.get("ce_specversion") != SPEC_VERSION:
        raise MalformedMessage("not a CloudEvents 1.0 binary-mode record")
    get = headers.get
    fields: dict[str, Any] = {field: get(header) for header, field in _FIELD_HEADERS}
    phi = get("ce_phi")
    fields["phi"] = tuple(name for name in phi.split(",") if name) if phi else ()
    try:
        # Another service wrote it: the envelope is validated whole, its data by the registry.
        fields["data"] = fastjson.loads(message.value)
        return Envelope.model_validate(fields)
    except (ValueError, ValidationError) as exc:
        raise MalformedMessage(f"unreadable CloudEvent: {type(exc).__name__}") from exc
