"""Envelopes, the registry's upcasting, and the CloudEvents binary-mode mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from shared.cloudevents import MalformedMessage, Message, from_message, to_message
from shared.events import (
    DomainEvent,
    EventRegistry,
    MalformedEvent,
    Metadata,
    UnknownEventType,
    seal,
)

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class PatientArrived(DomainEvent):
    context: ClassVar[str] = "scheduling"
    version: ClassVar[int] = 2
    appointment_id: str
    arrived_at: datetime
    kiosk: str


def envelope(type_name: str, data: dict[str, Any]) -> Any:
    return seal(
        PatientArrived(appointment_id="a", arrived_at=T0, kiosk="k"),
        stream="acme:x",
        stream_version=3,
        meta=Metadata(
            tenant="acme",
            correlation_id="c",
            actor="u",
            site="north",
            traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
        event_id="e1",
        time=T0,
        subject="a",
    ).model_copy(update={"type": type_name, "data": data})


def test_type_names_are_past_tense_and_versioned() -> None:
    assert PatientArrived.type_name() == "medoffice.scheduling.PatientArrived.v2"


def test_an_old_version_is_upcast_on_read() -> None:
    registry = EventRegistry([PatientArrived])
    registry.upcast(
        "medoffice.scheduling.PatientArrived.v1",
        "medoffice.scheduling.PatientArrived.v2",
        lambda old: {**old, "kiosk": "front desk"},
    )
    v1 = envelope(
        "medoffice.scheduling.PatientArrived.v1",
        {"appointment_id": "a", "arrived_at": T0.isoformat()},
    )

    assert registry.decode(v1) == PatientArrived(
        appointment_id="a", arrived_at=T0, kiosk="front desk"
    )
    assert v1.data == {"appointment_id": "a", "arrived_at": T0.isoformat()}  # never rewritten


def test_an_unknown_type_is_named() -> None:
    with pytest.raises(UnknownEventType, match="Teleported"):
        EventRegistry().decode(envelope("medoffice.scheduling.Teleported.v1", {}))


def test_data_that_breaks_the_schema_is_malformed() -> None:
    registry = EventRegistry([PatientArrived])
    with pytest.raises(MalformedEvent):
        registry.decode(envelope(PatientArrived.type_name(), {"appointment_id": 1}))


def test_an_envelope_survives_the_trip_through_kafka_headers() -> None:
    original = envelope(
        PatientArrived.type_name(),
        {"appointment_id": "a", "arrived_at": T0.isoformat(), "kiosk": "k"},
    ).model_copy(update={"position": 42})

    message = to_message(original, "medoffice.scheduling.events")

    assert message.key == "acme:x"
    assert message.headers["ce_specversion"] == "1.0"
    assert message.headers["ce_type"] == "medoffice.scheduling.PatientArrived.v2"
    assert message.headers["ce_streamversion"] == "3"
    assert message.headers["ce_traceparent"].startswith("00-0af7")
    assert message.headers["content-type"] == "application/json"
    assert from_message(message) == original


@pytest.mark.parametrize(
    ("headers", "value"),
    [
        ({}, b"{}"),
        ({"ce_specversion": "0.3"}, b"{}"),
        ({"ce_specversion": "1.0", "ce_id": "x"}, b"{}"),  # attributes missing
    ],
)
def test_records_that_are_not_our_cloudevents_are_malformed(
    headers: dict[str, str], value: bytes
) -> None:
    with pytest.raises(MalformedMessage):
        from_message(Message(topic="t", key="k", headers=headers, value=value))


def test_a_record_with_broken_json_is_malformed() -> None:
    good = to_message(
        envelope(PatientArrived.type_name(), {"appointment_id": "a"}), "medoffice.x.events"
    )
    with pytest.raises(MalformedMessage):
        from_message(good.model_copy(update={"value": b"{not json"}))
