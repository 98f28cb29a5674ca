"""A booking on the real engines: a CloudEvent on Kafka, a document in MongoDB, an audit entry."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import booking, post_ok, register
from tests.support import suite_settings, wait_until


@pytest.fixture
def settings(kafka_bootstrap: str, mongo_url: str, tmp_path: Path, unique: str) -> Settings:
    return suite_settings(tmp_path, kafka_bootstrap, mongo_url, namespace=unique)


@pytest.mark.integration
async def test_a_booking_travels_as_a_cloudevent_to_mongodb_and_the_audit_log(
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
    await consumer.start()
    try:
        record = None
        async with asyncio.timeout(30):
            async for message in consumer:
                headers = {k: v.decode() for k, v in message.headers}
                if headers.get("ce_subject") == booked["id"]:
                    record = message
                    break
    finally:
        await consumer.stop()
    assert record is not None
    headers = {k: v.decode() for k, v in record.headers}
    assert record.key == b"acme:site-day:north:2026-12-01"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "medoffice.scheduling.AppointmentBooked.v1"
    assert headers["ce_source"] == "/medoffice/scheduling"
    assert headers["content-type"] == "application/json"
    assert headers["ce_tenant"] == "acme"
    assert headers["ce_site"] == "north"
    assert headers["ce_stream"] == booked["stream"]
    assert headers["ce_streamversion"] == "1"
    assert headers["ce_actor"] == "tester"
    assert {"ce_id", "ce_time", "ce_correlationid", "ce_traceparent"} <= headers.keys()
    data = json.loads(record.value)
    assert data["appointment_id"] == booked["id"]
    assert data["start"] == "2026-12-01T14:00:00Z"

    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
    try:
        db = mongo[f"{settings.mongo_database}_scheduling"]

        async def projected() -> list[str]:
            names: list[str] = await db.list_collection_names()
            return [n for n in names if "appointments__g1" in n]

        [collection] = await wait_until(projected, message="the appointments collection")

        async def stored() -> dict[str, object] | None:
            return await db[collection].find_one({"appointment_id": booked["id"]})

        doc = await wait_until(stored, message="the appointment document in MongoDB")

        assert doc is not None
        assert doc["status"] == "booked"
    finally:
        await mongo.close()

    async def audited() -> list[dict[str, object]]:
        entries: list[dict[str, object]] = (
            await client.get("/compliance/audit-log", params={"subject": booked["id"]})
        ).json()
        return entries

    [entry] = await wait_until(audited, message="the audit entry")
    assert entry["type"] == "medoffice.scheduling.AppointmentBooked.v1"
