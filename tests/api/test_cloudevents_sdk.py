"""Our Kafka records read with the official CloudEvents SDK (`cloudevents` on PyPI), as any
other consumer would: binary mode, attributes and extensions from the `ce_*` headers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event
from cloudevents.core.exceptions import CloudEventValidationError

from services.scheduling.contracts import AppointmentBooked, PatientRegistered
from services.suite import Suite
from shared.cloudevents import to_message
from shared.events import Metadata, seal
from shared.settings import Settings
from tests.api.conftest import booking, post_ok, register
from tests.support import suite_settings, wait_until

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
BOOKED = AppointmentBooked.type_name()
REGISTERED = PatientRegistered.type_name()


@pytest.fixture
def settings(kafka_bootstrap: str, mongo_url: str, tmp_path: Path, unique: str) -> Settings:
    return suite_settings(tmp_path, kafka_bootstrap, mongo_url, namespace=unique)


def read(headers: dict[str, bytes], key: bytes | None, value: bytes) -> BaseCloudEvent:
    return from_binary_event(KafkaMessage(headers=headers, key=key, value=value))


def test_a_record_as_we_write_it_reads_with_the_sdk() -> None:
    event = AppointmentBooked(
        appointment_id="a-1",
        patient_id="pat-1",
        provider_id="p-1",
        site_id="north",
        room_id=None,
        visit_type_id="v-1",
        start=T0,
        end=T0,
        booked_at=T0,
    )
    envelope = seal(
        event,
        stream="acme:site-day:north:2026-12-01",
        stream_version=3,
        meta=Metadata(tenant="acme", actor="u-1", site="north", correlation_id="c-1"),
        event_id="e-1",
        time=T0,
        subject="a-1",
    )
    message = to_message(envelope, "medoffice.scheduling.events")
    headers = {k: v.encode() for k, v in message.headers.items()}

    cloudevent = read(headers, message.key.encode(), message.value)

    assert cloudevent.get_specversion() == "1.0"
    assert cloudevent.get_type() == "medoffice.scheduling.AppointmentBooked.v1"
    assert cloudevent.get_source() == "/medoffice/scheduling"
    assert cloudevent.get_id() == "e-1"
    assert cloudevent.get_subject() == "a-1"
    assert cloudevent.get_time() == T0
    assert cloudevent.get_datacontenttype() == "application/json"
    assert cloudevent.get_extension("tenant") == "acme"
    assert cloudevent.get_extension("streamversion") == "3"
    assert cloudevent.get_extension("partitionkey") == "acme:site-day:north:2026-12-01"
    assert cloudevent.get_data() == event.model_dump(mode="json")

    # The SDK is a real check: an extension named against the spec's rule is refused.
    headers["ce_stream_version"] = headers.pop("ce_streamversion")
    with pytest.raises(CloudEventValidationError):
        read(headers, message.key.encode(), message.value)


@pytest.mark.integration
async def test_records_on_kafka_read_with_the_sdk(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, settings: Settings
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))

    consumer = AIOKafkaConsumer(
        settings.topic("scheduling"),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    found: dict[str, BaseCloudEvent] = {}
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            async for record in consumer:
                cloudevent = read(dict(record.headers), record.key, record.value)
                if cloudevent.get_type() in (BOOKED, REGISTERED):
                    found[cloudevent.get_type()] = cloudevent
                if len(found) == 2:
                    break
    finally:
        await consumer.stop()

    appointment = found[BOOKED]
    assert appointment.get_source() == "/medoffice/scheduling"
    assert appointment.get_subject() == booked["id"]
    assert appointment.get_extension("tenant") == "acme"
    assert appointment.get_extension("stream") == booked["stream"]
    assert appointment.get_extension("partitionkey") == booked["stream"]
    data: Any = appointment.get_data()
    assert data["appointment_id"] == booked["id"]
    assert data["patient_id"] == "pat-1"
    assert data["start"] == "2026-12-01T14:00:00Z"

    patient = found[REGISTERED]
    assert patient.get_source() == "/medoffice/scheduling"
    registered: Any = patient.get_data()
    assert registered["patient_id"] == "pat-1"
    # PHI travels sealed: the SDK reads a ciphertext, never the name.
    assert registered["name"]["phi"] == 1
    assert "Name of pat-1" not in json.dumps(registered)

    # The id the SDK reads is the one compliance chained for the booking.
    async def audited() -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (
            await client.get("/compliance/audit-log", params={"subject": booked["id"]})
        ).json()
        return entries

    [entry] = await wait_until(audited, message="the audit entry")
    assert entry["event_id"] == appointment.get_id()
