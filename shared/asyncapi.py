"""The AsyncAPI 3.0 document of the services' contracts: a channel per topic, a `send`
operation per publishing service, a `receive` operation per consuming one, and a message per
event type with its payload's JSON Schema (from pydantic) and its CloudEvents headers
(Kafka protocol binding, binary mode: see `shared.cloudevents`).

PHI fields are marked `x-medoffice-phi: true` on their property, and a message with PHI names
the field whose patient's key seals it (`x-medoffice-phi-subject`). Pure: it builds a dict;
`python -m services.asyncapi` writes it to docs/asyncapi.yaml.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, get_args

from pydantic.fields import FieldInfo
from pydantic.json_schema import models_json_schema

from shared.cloudevents import to_message
from shared.contracts import Contract, phi_of, phi_subject
from shared.events import DomainEvent, Envelope

ASYNCAPI = "3.0.0"
KAFKA_BINDING = "0.5.0"
HEADERS = "CloudEventHeaders"
SCHEMAS = "#/components/schemas/{model}"
PHI_NOTE = (
    "PHI: on the bus, sealed (`Sealed`) under the key of the message's "
    "`x-medoffice-phi-subject`; plain text only in events recorded before PHI was sealed."
)

# What each `ce_*` header of a record holds. Every header `shared.cloudevents.to_message`
# writes must be described here: the generator refuses one that is not.
HEADER_DOCS = {
    "ce_specversion": ("CloudEvents spec version.", {"const": "1.0"}),
    "ce_id": ("The event's id, unique within its source: a redelivery repeats it.", {}),
    "ce_source": ("`/medoffice/<context>`.", {}),
    "ce_type": ("`medoffice.<context>.<EventName>.v<version>`.", {}),
    "ce_time": ("When the event was recorded (RFC 3339).", {"format": "date-time"}),
    "content-type": ("The data's media type (CloudEvents `datacontenttype`).", {}),
    "ce_subject": ("What the event is about, e.g. the appointment id.", {}),
    "ce_tenant": ("Extension: the tenant (medical group) whose event this is.", {}),
    "ce_site": ("Extension: the site it happened at, when it names one.", {}),
    "ce_stream": ("Extension: the event stream; also the record's key.", {}),
    "ce_streamversion": (
        "Extension: the event's version within its stream (1, 2, ...).",
        {"pattern": "^[1-9][0-9]*$"},
    ),
    "ce_position": (
        "Extension: the event's position in its context's store.",
        {"pattern": "^[0-9]+$"},
    ),
    "ce_correlationid": ("Extension: the request that caused it, across services.", {}),
    "ce_causationid": ("Extension: the id of the event that caused it, if any.", {}),
    "ce_actor": ("Extension: who caused it (a user, or `system:<context>`).", {}),
    "ce_traceparent": ("Extension: W3C trace context of the request.", {}),
    "ce_phi": ("Extension: the data fields that hold PHI (sealed), comma-separated.", {}),
}


def _headers(envelope: Envelope) -> set[str]:
    return set(to_message(envelope, "t").headers)


def _sample(info: FieldInfo) -> Any:
    """A value for an optional envelope attribute, so that its header is written."""
    if isinstance(info.default, tuple):
        return ("v",)
    return 1 if int in get_args(info.annotation) else "v"


def cloudevent_headers() -> dict[str, Any]:
    """The JSON Schema of a record's headers: those every record has are required."""
    t0 = datetime(2000, 1, 1, tzinfo=UTC)
    least = Envelope(
        id="e",
        type="t",
        source="s",
        time=t0,
        stream="x",
        stream_version=1,
        tenant="t",
        correlation_id="c",
        data={},
    )
    most = least.model_copy(
        update={
            name: _sample(info)
            for name, info in Envelope.model_fields.items()
            if not info.is_required()
        }
    )
    written, required = _headers(most), _headers(least)
    undescribed = written - HEADER_DOCS.keys()
    if undescribed:
        raise ValueError(f"headers without a description in HEADER_DOCS: {sorted(undescribed)}")
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 attributes and medoffice's extensions, Kafka protocol binding in "
            "binary mode: one `ce_<attribute>` header each, UTF-8 text."
        ),
        "required": [name for name in HEADER_DOCS if name in required],
        "properties": {
            name: {"type": "string", "description": doc, **extra}
            for name, (doc, extra) in HEADER_DOCS.items()
            if name in written
        },
    }


def message_key(cls: type[DomainEvent]) -> str:
    """`<context>.<EventName>.v<version>`: the type name without the `medoffice.` prefix."""
    return cls.type_name().removeprefix("medoffice.")


def _summary(cls: type[DomainEvent]) -> str | None:
    doc = cls.__dict__.get("__doc__")  # its own, not a base class's
    return " ".join(doc.split()) if isinstance(doc, str) and doc.strip() else None


def _message(
    contract: Contract, cls: type[DomainEvent], payload_ref: str, headers: set[str]
) -> dict[str, Any]:
    pinned: dict[str, Any] = {
        "ce_type": {"const": cls.type_name()},
        "ce_source": {"const": contract.source},
    }
    if "ce_phi" in headers and phi_of(cls):
        pinned["ce_phi"] = {"const": ",".join(phi_of(cls))}
    message: dict[str, Any] = {
        "name": cls.type_name(),
        "title": f"{cls.__name__} v{cls.version}",
    }
    summary = _summary(cls)
    if summary:
        message["summary"] = summary
    message |= {
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": f"#/components/schemas/{HEADERS}"},
                {"type": "object", "properties": pinned},
            ]
        },
        "payload": {"$ref": payload_ref},
        "correlationId": {"location": "$message.header#/ce_correlationid"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The event's stream (`ce_stream`)."},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }
    subject = phi_subject(cls)
    if phi_of(cls) and subject is not None:
        message["x-medoffice-phi-subject"] = subject
    if not contract.publishes(cls):
        message["x-medoffice-stored-only"] = True  # in the context's store, on no topic
    return message


def asyncapi_document(
    contracts: Sequence[Contract], *, title: str, version: str, description: str
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of `contracts`, as a JSON-ready dict in a stable order."""
    events = [(c, cls) for c in contracts for cls in c.events]
    refs, bundle = models_json_schema(
        [(cls, "serialization") for _, cls in events], ref_template=SCHEMAS
    )
    headers = cloudevent_headers()
    written = set(headers["properties"])
    schemas: dict[str, Any] = {HEADERS: headers, **bundle.get("$defs", {})}
    messages: dict[str, Any] = {}
    for contract, cls in events:
        payload_ref = refs[(cls, "serialization")]["$ref"]
        payload = schemas[payload_ref.rpartition("/")[2]]
        for field in phi_of(cls):
            prop = payload["properties"][field]
            prop["x-medoffice-phi"] = True
            prop["description"] = PHI_NOTE
        messages[message_key(cls)] = _message(contract, cls, payload_ref, written)

    published = [c for c in contracts if c.relayed]
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for contract in published:
        channels[contract.context] = {
            "address": contract.topic(),
            "title": f"{contract.context} events",
            "description": (
                f"{contract.summary} Every event the {contract.context} service records, in "
                "commit order per stream (the record key). Settings may prefix the topic "
                "(`MEDOFFICE_TOPIC_NAMESPACE`)."
            ),
            "messages": {
                message_key(cls): {"$ref": f"#/components/messages/{message_key(cls)}"}
                for cls in contract.events
                if contract.publishes(cls)
            },
            "bindings": {"kafka": {"topic": contract.topic(), "bindingVersion": KAFKA_BINDING}},
        }
    for contract in published:
        operations[f"{contract.context}.publish"] = _operation(
            "send", contract, f"The {contract.context} service's outbox relay publishes them."
        )
    for consumer in contracts:
        for context in consumer.consumes:
            producer = next((c for c in published if c.context == context), None)
            if producer is not None:
                operations[f"{consumer.context}.receive.{context}"] = _operation(
                    "receive", producer, f"The {consumer.context} service reads them."
                )
    return {
        "asyncapi": ASYNCAPI,
        "info": {"title": title, "version": version, "description": description},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def _operation(action: str, contract: Contract, summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{contract.context}"},
        "summary": summary,
        "messages": [
            {"$ref": f"#/channels/{contract.context}/messages/{message_key(cls)}"}
            for cls in contract.events
            if contract.publishes(cls)
        ],
    }
