"""Charges through the HTTP API on both backends: a real visit booked, checked in and completed
through scheduling's API becomes its charge in billing (over the bus); billers correct, hold
and release; the work queues; who may see what.

What billing learns of the patient (the learning reactor) and the payer's fee schedule (the
reference routes) are recorded straight on billing's streams here (tests/billing_facts.py)
until those areas land.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from services.billing.domain import streams
from services.suite import Suite
from tests.api.conftest import TokenFor, booking, post_ok, register
from tests.billing_facts import define_payer, learn_patient, publish_fees
from tests.support import wait_until

TENANT = "acme"
FEES = {"99213": 12_500, "99214": 18_000}


async def set_up_billing(suite: Suite, *patients: str) -> None:
    await define_payer(suite, TENANT, "acme-health", "Acme Health")
    await publish_fees(suite, TENANT, "acme-health", 1, date(2026, 1, 1), FEES)
    for patient_id in patients:
        await learn_patient(suite, TENANT, patient_id, payer_id="acme-health")


async def complete_visit(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    procedures: list[str],
    diagnoses: list[str],
    start: str = "2026-12-01T09:00:00-05:00",
) -> str:
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic, start=start))
    aid = str(booked["id"])
    codes = {"procedures": procedures, "diagnoses": diagnoses}
    for step, body in (("check-in", None), ("complete", codes)):
        response = await client.post(f"/scheduling/appointments/{aid}/{step}", json=body)
        assert response.status_code == 200, response.text
    return aid


async def charge(client: httpx.AsyncClient, charge_id: str, **headers: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        response = await client.get(f"/billing/charges/{charge_id}", headers=headers)
        return response.json() if response.status_code == 200 else None

    doc = await wait_until(found, message=f"charge {charge_id}")
    assert doc is not None
    return doc


async def test_a_completed_visit_becomes_a_released_charge(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, token_for: TokenFor
) -> None:
    await set_up_billing(suite, "pat-1")
    await register(client, "pat-1")
    aid = await complete_visit(client, clinic, ["99213-25", "99214"], ["E11.9", "I10"])
    biller = token_for("biller")
    doc = await charge(client, aid, **biller)
    assert doc["status"] == "released"
    assert doc["issues"] == []
    assert (doc["payer_id"], doc["fee_schedule_version"]) == ("acme-health", 1)
    assert doc["date_of_service"] == "2026-12-01"
    assert [(ln["code"], ln["modifiers"], ln["fee_cents"]) for ln in doc["lines"]] == [
        ("99213", ["25"], 12_500),
        ("99214", [], 18_000),
    ]
    assert doc["lines"][0]["diagnosis_pointers"] == [1, 2]
    assert doc["total_cents"] == 30_500
    listed = await client.get("/billing/charges", params={"status": "released"}, headers=biller)
    assert [c["charge_id"] for c in listed.json()["charges"]] == [aid]
    held = await client.get("/billing/charges", params={"status": "held"}, headers=biller)
    assert held.json()["charges"] == []

    async def disclosed() -> list[Any]:
        entries: list[Any] = (
            await client.get(
                "/compliance/audit-log",
                params={"type": "medoffice.billing.PatientRecordAccessed.v1"},
            )
        ).json()
        return entries

    entries = await wait_until(disclosed, message="billing's disclosures in the audit log")
    assert {e["subject"] for e in entries} == {"pat-1"}


async def test_a_coding_error_is_held_corrected_and_released(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, token_for: TokenFor
) -> None:
    await set_up_billing(suite, "pat-1")
    await register(client, "pat-1")
    # E11 is a category (not billable); 99215 has no fee in the schedule
    aid = await complete_visit(client, clinic, ["99215"], ["E11"])
    biller = token_for("biller")
    doc = await charge(client, aid, **biller)
    assert (doc["status"], doc["hold_reason"]) == ("held", "coding")
    assert [i["problem"] for i in doc["issues"]] == [
        "E11 is a category, not a billable code: use a more specific code under it",
        "no fee for 99215 in Acme Health's schedule v1",
    ]
    for queue in ("held-charges", "coding-errors"):
        listed = (await client.get(f"/billing/work-queues/{queue}", headers=biller)).json()
        assert [(c["charge_id"], len(c["issues"])) for c in listed["charges"]] == [(aid, 2)]

    refused = await client.post(f"/billing/charges/{aid}/release", headers=biller)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert [i["code"] for i in refused.json()["issues"]] == ["E11", "99215"]

    stream = streams.charge(TENANT, aid)
    store = suite.service("billing").event_store
    assert store is not None
    before = await store.version(stream)
    good_line = {"code": "99214", "diagnosis_pointers": [1]}
    hostile: list[Any] = [
        {"diagnoses": ["E11.9"], "lines": [good_line]},  # no reason
        {"diagnoses": [], "lines": [good_line], "reason": "x"},
        {"diagnoses": ["E11.9"], "lines": [], "reason": "x"},
        {"diagnoses": ["E11.9"] * 13, "lines": [good_line], "reason": "x"},
        {"diagnoses": ["<script>"], "lines": [good_line], "reason": "x"},
        {"diagnoses": ["E11.9"], "lines": [{**good_line, "units": 0}], "reason": "x"},
        {"diagnoses": ["E11.9"], "lines": [{**good_line, "units": 10_000}], "reason": "x"},
        {"diagnoses": ["E11.9"], "lines": [{**good_line, "diagnosis_pointers": []}], "reason": "x"},
        {"diagnoses": ["E11.9"], "lines": [{**good_line, "modifiers": ["A"] * 5}], "reason": "x"},
        {"diagnoses": ["E11.9"], "lines": [{**good_line, "code": "9" * 50}], "reason": "x"},
        {"diagnoses": ["E11.9"], "lines": [good_line], "reason": ""},
        {"diagnoses": ["E11.9"], "lines": [good_line], "reason": " "},
        {"diagnoses": ["E11.9"], "lines": [good_line], "reason": "x", "fee_cents": 1},
        ["not", "an", "object"],
    ]
    for body in hostile:
        response = await client.post(
            f"/billing/charges/{aid}/corrections", json=body, headers=biller
        )
        assert 400 <= response.status_code < 500, (body, response.text)
    bad_id = await client.post("/billing/charges/..%2Fx/hold", json={"reason": "x"}, headers=biller)
    assert 400 <= bad_id.status_code < 500
    missing = await client.post("/billing/charges/nope/hold", json={"reason": "x"}, headers=biller)
    assert missing.status_code == 404
    assert await store.version(stream) == before  # nothing written

    body = {"diagnoses": ["e11.9"], "lines": [good_line], "reason": "99215 not documented"}
    corrected = await client.post(f"/billing/charges/{aid}/corrections", json=body, headers=biller)
    assert corrected.status_code == 201, corrected.text
    recorded = corrected.json()
    after = {"after_stream": recorded["stream"], "after_version": recorded["stream_version"]}
    doc = (await client.get(f"/billing/charges/{aid}", params=after, headers=biller)).json()
    assert doc["diagnoses"] == ["E11.9"]
    assert doc["issues"] == []
    assert doc["lines"][0]["fee_cents"] == 18_000
    assert doc["status"] == "held"
    errors = await client.get("/billing/work-queues/coding-errors", params=after, headers=biller)
    assert errors.json()["charges"] == []

    released = await client.post(f"/billing/charges/{aid}/release", headers=biller)
    assert released.status_code == 201, released.text
    after = {"after_stream": stream, "after_version": released.json()["stream_version"]}
    held = await client.get("/billing/work-queues/held-charges", params=after, headers=biller)
    assert held.json()["charges"] == []
    listed = await client.get("/billing/charges", params={**after, "status": "released"})
    assert [c["charge_id"] for c in listed.json()["charges"]] == [aid]
    again = await client.post(f"/billing/charges/{aid}/release", headers=biller)
    assert again.status_code == 409
    late = await client.post(f"/billing/charges/{aid}/corrections", json=body, headers=biller)
    assert late.status_code == 409  # released: held first
    hold = await client.post(f"/billing/charges/{aid}/hold", json={"reason": "payer query"})
    assert hold.status_code == 201


async def test_who_sees_charges(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, token_for: TokenFor
) -> None:
    await set_up_billing(suite, "pat-1")
    await register(client, "pat-1")
    aid = await complete_visit(client, clinic, ["99213"], ["E11.9"])
    await charge(client, aid)
    north_manager = token_for("manager", sites=["north"])
    south_manager = token_for("manager", sites=["south"])
    auditor = token_for("auditor", sites=["south"])
    assert (await charge(client, aid, **north_manager))["charge_id"] == aid
    assert (await client.get(f"/billing/charges/{aid}", headers=south_manager)).status_code == 404
    mine = await client.get("/billing/charges", headers=south_manager)
    assert mine.json()["charges"] == []
    other = await client.get("/billing/charges", params={"site": "north"}, headers=south_manager)
    assert other.status_code == 403
    assert (await client.get(f"/billing/charges/{aid}", headers=auditor)).status_code == 200
    for role in ("front_desk", "clinician", "hr", "staff"):
        refused = await client.get("/billing/charges", headers=token_for(role, sites=["north"]))
        assert refused.status_code == 403, role
    for role in ("auditor", "manager"):
        hold = await client.post(
            f"/billing/charges/{aid}/hold",
            json={"reason": "x"},
            headers=token_for(role, sites=["north"]),
        )
        assert hold.status_code == 403, role
    bad = await client.get(
        "/billing/charges", params={"after_stream": "acme:claim:x", "after_version": 1}
    )
    assert bad.status_code == 400
