"""The envelope names the data fields its producer declares PHI, on the wire too, so a
consumer without the producer's classes (compliance) knows what not to keep in the clear."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from shared.cloudevents import from_message, to_message
from shared.events import AsReceived, DomainEvent, Metadata, Received, seal
from shared.phi import Phi, PhiEvent


class NoteTaken(PhiEvent):
    context: ClassVar[str] = "clinic"

    patient_id: str
    note: Phi
    length: int


class RoomOpened(DomainEvent):
    context: ClassVar[str] = "clinic"

    room_id: str


def test_a_phi_events_envelope_names_its_phi_fields_on_the_wire_too() -> None:
    envelope = seal(
        NoteTaken(patient_id="p-1", note="sealed elsewhere", length=3),
        stream="acme:x:1",
        stream_version=1,
        meta=Metadata(tenant="acme", correlation_id="c-1"),
        event_id="e-1",
        time=datetime(2026, 11, 30, 12, tzinfo=UTC),
    )
    assert envelope.phi == ("note",)
    message = to_message(envelope, "medoffice.clinic.events")
    assert message.headers["ce_phi"] == "note"
    assert from_message(message) == envelope


def test_an_event_without_phi_names_none_and_sends_no_header() -> None:
    envelope = seal(
        RoomOpened(room_id="r-1"),
        stream="acme:x:1",
        stream_version=1,
        meta=Metadata(tenant="acme", correlation_id="c-1"),
        event_id="e-1",
        time=datetime(2026, 11, 30, 12, tzinfo=UTC),
    )
    assert envelope.phi == ()
    message = to_message(envelope, "medoffice.clinic.events")
    assert "ce_phi" not in message.headers
    assert from_message(message) == envelope


def test_read_as_received_any_type_is_known_and_nothing_is_decoded() -> None:
    envelope = seal(
        RoomOpened(room_id="r-1"),
        stream="acme:x:1",
        stream_version=1,
        meta=Metadata(tenant="acme", correlation_id="c-1"),
        event_id="e-1",
        time=datetime(2026, 11, 30, 12, tzinfo=UTC),
    )
    odd = envelope.model_copy(update={"type": "not-ours", "data": {"anything": [1, 2]}})
    registry = AsReceived()
    assert registry.knows("not-ours")
    assert registry.decode(odd) == Received(type="not-ours", data={"anything": [1, 2]})
    assert odd.context == ""
