"""PHI never rests in plaintext, and forgetting a patient makes it unreadable everywhere.

A patient's demographics and contact details, a coverage's member id, an intake's reason for
visit and answers, a triage's chief complaint and a cancellation reason (free text about the
patient) are sealed under the patient's data key before they are stored. The raw bytes of the
event store, the bus and the read models (SQLite files; MongoDB documents and Kafka records)
never hold them; after the patient is forgotten the API shows them redacted, also after the
read models are rebuilt from the log, and refuses new PHI for the patient.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog.testing
from aiokafka import AIOKafkaConsumer, TopicPartition
from bson import encode
from pymongo import AsyncMongoClient

from services.suite import Suite
from shared.settings import Settings
from tests.api.billing_helpers import billing_knows_patient
from tests.api.conftest import booking, post_ok
from tests.support import changes, wait_until

NAME, BIRTH_DATE, PHONE = "Zebulon Quarrington", "1961-02-03", "+1 555 0199"
EMAIL, ADDRESS = "zebq@example.org", "17 Larkspur Lane, Duluth MN 55802"
MEMBER_ID = "MBR-77QX-9321"
SUBSCRIBER = "Wilhelmina Quarrington"  # the coverage's subscriber, the patient's spouse
REASON_FOR_VISIT = "Recurring migraines with aura"
ANSWERS = [{"question": "Current medication?", "answer": "Sumatriptan 50 mg"}]
CHIEF_COMPLAINT = "Left wrist swollen after a fall"
REASON = "Zebulon has had chest pain since Tuesday"
NEEDLES = (
    b"Zebulon",
    b"Quarrington",
    b"1961-02-03",
    b"555 0199",
    b"zebq@",
    b"Larkspur",
    b"77QX-9321",
    b"Wilhelmina",
    b"migraines",
    b"Sumatriptan",
    b"wrist swollen",
)


def _files(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


async def raw_bytes(suite: Suite, settings: Settings) -> bytes:
    """Everything the suite has stored or published, as raw bytes."""
    if not settings.scale_out:
        return _files(Path(settings.data_dir))
    chunks: list[bytes] = []
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
    try:
        for name in suite.backends.databases:
            db = client[name]
            for collection in await db.list_collection_names():
                async for doc in db[collection].find():
                    chunks.append(encode(doc))
    finally:
        await client.close()
    contexts = ("scheduling", "staffing", "billing", "finance", "engagement", "compliance")
    topics = [settings.topic(c) for c in contexts]
    topics += [t.removesuffix(".events") + ".dlq" for t in topics]
    probe = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await probe.start()
    try:
        present = [t for t in topics if t in await probe.topics()]
    finally:
        await probe.stop()
    assert settings.topic("scheduling") in present
    consumer = AIOKafkaConsumer(
        *present,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def assigned() -> set[TopicPartition]:
            partitions: set[TopicPartition] = consumer.assignment()
            return partitions

        partitions = await wait_until(assigned, message="the topics' partitions")
        ends = await consumer.end_offsets(list(partitions))
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    chunks.append(record.value or b"")
                    chunks += [value for _, value in record.headers]
    finally:
        await consumer.stop()
    return b"".join(chunks)


async def test_a_forgotten_patients_phi_is_unreadable_everywhere(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    settings: Settings,
    operator: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with structlog.testing.capture_logs() as events:
        await forget_and_check(client, clinic, suite, settings, operator)
    lines = [json.dumps(e, default=str) for e in events]
    lines += [record.getMessage() for record in caplog.records]
    assert lines, "the run logs something"
    assert not [line for line in lines if any(n.decode() in line for n in NEEDLES)]


async def forget_and_check(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    settings: Settings,
    operator: dict[str, str],
) -> None:
    patient = {
        "name": NAME,
        "birth_date": BIRTH_DATE,
        "phone": PHONE,
        "email": EMAIL,
        "address": ADDRESS,
    }
    await post_ok(client, "/scheduling/patients", {"patient_id": "pat-zq", **patient})

    async def demographics() -> dict[str, str] | None:
        response = await client.get("/scheduling/patients/pat-zq")
        if response.status_code != 200:
            return None
        found: dict[str, str] = response.json()
        return {k: found[k] for k in patient}

    assert await wait_until(demographics, message="the patient's record") == patient
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="pat-zq"))
    kept = await post_ok(  # still booked when the patient is forgotten
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="pat-zq", start="2026-12-03T09:00:00-05:00"),
    )
    cancelled = await client.post(
        f"/scheduling/appointments/{booked['id']}/cancel", json={"reason": REASON}
    )
    assert cancelled.status_code == 200, cancelled.text

    async def shown() -> str | None:
        doc = (await client.get(f"/scheduling/appointments/{booked['id']}")).json()
        reason: str | None = doc.get("cancel_reason")
        return reason

    assert await wait_until(shown, message="the cancellation in the read model") == REASON
    coverage = {
        "coverage_id": "cov-zq",
        "payer_id": "acme-health",
        "payer_name": "Acme Health",
        "plan": "PPO",
        "relationship": "spouse",
        "member_id": MEMBER_ID,
        "subscriber_name": SUBSCRIBER,
    }
    await post_ok(client, "/scheduling/patients/pat-zq/coverage", coverage)
    intake = {"reason_for_visit": REASON_FOR_VISIT, "answers": ANSWERS}
    await post_ok(client, "/scheduling/patients/pat-zq/intake", intake)
    triage = {"patient_id": "pat-zq", "urgency": 2, "chief_complaint": CHIEF_COMPLAINT}
    await post_ok(client, "/scheduling/sites/north/triage", triage)
    opened = {
        "member_id": MEMBER_ID,
        "reason_for_visit": REASON_FOR_VISIT,
        "answers": ANSWERS,
        "chief_complaint": CHIEF_COMPLAINT,
    }
    assert await wait_until(lambda: coverage_intake_triage(client), message="the PHI") == opened

    async def audited() -> bool:
        entries = changes(
            (await client.get("/compliance/audit-log", params={"limit": 1000})).json()
        )
        # Scheduling's (staffing's own, of the provider's hire, are not counted here).
        return len([e for e in entries if ".scheduling." in str(e["type"])]) == 14

    await wait_until(audited, message="scheduling's fourteen audit entries")
    # Billing's copies (learnt from scheduling's events) are in the scan too.
    learnt = await billing_knows_patient(client, {}, "pat-zq", ["cov-zq"])
    assert learnt["coverages"][0]["subscriber_name"] == SUBSCRIBER
    stored = await raw_bytes(suite, settings)
    assert str(booked["id"]).encode() in stored  # the scan does reach the stored events
    assert not [n for n in NEEDLES if n in stored]

    forgotten = await client.post(
        "/scheduling/patients/pat-zq/forget", json={"reason": "erasure request"}
    )
    assert forgotten.status_code == 200, forgotten.text

    assert await shown() == "[redacted]"
    redacted = dict.fromkeys(patient, "[redacted]")
    assert await wait_until(demographics, message="the record") == redacted
    assert await coverage_intake_triage(client) == dict.fromkeys(opened, "[redacted]")
    billed = (await client.get("/billing/patients/pat-zq/coverages")).json()["coverages"]
    assert [(c["member_id"], c["subscriber_name"]) for c in billed] == [("[redacted]",) * 2]
    rebuilt = await client.post(
        "/ops/projections/scheduling.appointments/rebuild", headers=operator
    )
    assert rebuilt.status_code == 200
    after = (await client.get(f"/scheduling/appointments/{booked['id']}")).json()
    assert after["cancel_reason"] == "[redacted]"
    assert (after["status"], after["patient_id"]) == ("cancelled", "pat-zq")
    # Every other projection too: nothing they rebuild from holds the plaintext any more.
    names = [p["name"] for p in (await client.get("/ops/projections", headers=operator)).json()]
    assert len(names) >= 8
    for projection in (n for n in names if n != "scheduling.appointments"):
        rebuilt = await client.post(f"/ops/projections/{projection}/rebuild", headers=operator)
        assert rebuilt.status_code == 200
    assert await demographics() == redacted
    assert await coverage_intake_triage(client) == dict.fromkeys(opened, "[redacted]")
    queue = (await client.get("/scheduling/sites/north/triage-queue")).json()["waiting"]
    assert [(e["patient_id"], e["patient_name"]) for e in queue] == [("pat-zq", "[redacted]")]

    again = await client.post(
        "/scheduling/appointments",
        json=booking(clinic, patient_id="pat-zq", start="2026-12-04T09:00:00-05:00"),
    )
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == "patient pat-zq was forgotten"
    refused = await client.post(
        f"/scheduling/appointments/{kept['id']}/cancel", json={"reason": "more notes"}
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == "patient pat-zq was forgotten"
    for path, body in [
        ("/scheduling/patients/pat-zq/coverage", {**coverage, "plan": "HMO"}),
        ("/scheduling/patients/pat-zq/intake", intake),
        ("/scheduling/sites/north/triage", {**triage, "patient_id": "pat-zq"}),
    ]:
        refused = await client.post(path, json=body)
        assert refused.status_code == 409, (path, refused.text)
        assert refused.json()["detail"] == "patient pat-zq was forgotten"

    stored = await raw_bytes(suite, settings)
    assert not [n for n in NEEDLES if n in stored]


async def coverage_intake_triage(client: httpx.AsyncClient) -> dict[str, Any] | None:
    """The patient's member id, intake and chief complaint as the API shows them, once all
    three are in their read models."""
    record = (await client.get("/scheduling/patients/pat-zq")).json()
    queue = (await client.get("/scheduling/sites/north/triage-queue")).json()["waiting"]
    if not (record.get("coverages") and record.get("intakes") and queue):
        return None
    [coverage], [intake], [entry] = record["coverages"], record["intakes"], queue
    return {
        "member_id": coverage["member_id"],
        "reason_for_visit": intake["reason_for_visit"],
        "answers": intake["answers"],
        "chief_complaint": entry["chief_complaint"],
    }
