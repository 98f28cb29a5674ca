"""Patients through the HTTP API: contact details, coverage and intake, each read on the record."""

from __future__ import annotations

from typing import Any

import httpx

from services.suite import Suite
from tests.api.conftest import booking, post_ok, register
from tests.api.test_bad_input import PROBLEM, events_written
from tests.support import ACCESS, every_case_holds, settled, wait_until

PATIENT = {
    "patient_id": "pat-1",
    "name": "Ada Example",
    "birth_date": "1980-05-06",
    "phone": "+1 555 0100",
    "email": "ada@example.org",
    "address": "1 Main Street\nSpringfield, IL 62701",
}
COVERAGE = {
    "coverage_id": "cov-1",
    "payer_id": "acme-health",
    "payer_name": "Acme Health",
    "plan": "PPO Gold",
    "relationship": "self",
    "member_id": "XZ-123-456",
}
ANSWERS = [
    {"question": "Do you smoke?", "answer": "No"},
    {"question": "Allergies?", "answer": "Penicillin"},
]


async def read_patient(
    client: httpx.AsyncClient, patient_id: str, until: Any = None
) -> dict[str, Any]:
    """The patient once the read model has them (and `until(record)` holds, if given)."""

    async def read() -> dict[str, Any] | None:
        response = await client.get(f"/scheduling/patients/{patient_id}")
        if response.status_code != 200:
            return None
        record: dict[str, Any] = response.json()
        return record if until is None or until(record) else None

    record = await wait_until(read, message=f"patient {patient_id} in the read model")
    assert record is not None
    return record


async def test_registration_keeps_email_and_postal_address(client: httpx.AsyncClient) -> None:
    registered = await post_ok(client, "/scheduling/patients", PATIENT)
    assert registered["stream"] == "acme:patient:pat-1"
    record = await read_patient(client, "pat-1")
    assert {k: record[k] for k in PATIENT} == PATIENT
    assert (record["coverages"], record["intakes"]) == ([], [])

    bare = {"patient_id": "pat-2", "name": "Bo", "birth_date": "1990-01-01"}
    await post_ok(client, "/scheduling/patients", bare)
    record = await read_patient(client, "pat-2")
    assert (record["phone"], record["email"], record["address"]) == ("", "", "")


async def test_coverages_are_listed_on_the_patient_with_member_ids_opened(
    client: httpx.AsyncClient,
) -> None:
    await post_ok(client, "/scheduling/patients", PATIENT)
    recorded = await post_ok(client, "/scheduling/patients/pat-1/coverage", COVERAGE)
    assert (recorded["id"], recorded["stream"]) == ("cov-1", "acme:patient:pat-1")
    second = {
        **COVERAGE,
        "payer_id": "globe",
        "payer_name": "Globe",
        "relationship": "spouse",
        "subscriber_name": "Bo Example",
    }
    del second["coverage_id"]
    other = await post_ok(client, "/scheduling/patients/pat-1/coverage", second)

    record = await read_patient(client, "pat-1", until=lambda r: len(r["coverages"]) == 2)
    first, then = record["coverages"]
    assert {k: first[k] for k in COVERAGE} == COVERAGE
    assert (then["coverage_id"], then["member_id"]) == (other["id"], "XZ-123-456")
    assert first["recorded_at"]

    again = await client.post(
        "/scheduling/patients/pat-1/coverage", json={**COVERAGE, "coverage_id": "cov-3"}
    )
    assert again.status_code == 409
    assert again.json()["detail"] == (
        "patient pat-1 already has coverage with payer acme-health, plan PPO Gold"
    )


async def test_coverages_by_priority_replace_and_update_and_keep_the_subscriber_sealed(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await post_ok(client, "/scheduling/patients", {**PATIENT, "sex": "female"})
    await post_ok(client, "/scheduling/patients/pat-1/coverage", COVERAGE)
    spouse = {
        "coverage_id": "cov-2",
        "payer_id": "globe",
        "payer_name": "Globe",
        "plan": "HMO",
        "relationship": "spouse",
        "member_id": "G-1",
        "subscriber_name": "Bo Example",
        "group_number": "GRP-9",
    }
    await post_ok(client, "/scheduling/patients/pat-1/coverage", spouse)
    # A new primary replaces cov-1; cov-2 keeps its place, updated with a new member id.
    await post_ok(
        client,
        "/scheduling/patients/pat-1/coverage",
        {**COVERAGE, "coverage_id": "cov-3", "payer_id": "north", "priority": 1},
    )
    last = await post_ok(
        client, "/scheduling/patients/pat-1/coverage", {**spouse, "member_id": "G-2"}
    )

    def settled(record: dict[str, Any]) -> bool:
        return [c["member_id"] for c in record["coverages"]] == ["XZ-123-456", "G-2"]

    record = await read_patient(client, "pat-1", until=settled)
    assert record["sex"] == "female"
    primary, secondary = record["coverages"]
    assert (primary["coverage_id"], primary["priority"], primary["payer_id"]) == (
        "cov-3",
        1,
        "north",
    )
    assert (primary["subscriber_name"], primary["group_number"]) == ("", "")
    assert {k: secondary[k] for k in ("coverage_id", "priority", "subscriber_name")} == {
        "coverage_id": "cov-2",
        "priority": 2,
        "subscriber_name": "Bo Example",
    }
    assert secondary["group_number"] == "GRP-9"
    stored = await suite.service("scheduling").event_store.load(last["stream"])  # type: ignore[union-attr]
    assert "Bo Example" not in str([e.data for e in stored])
    assert "female" not in str([e.data for e in stored])


async def test_an_intake_is_read_back_with_its_answers(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await post_ok(client, "/scheduling/patients", PATIENT)
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    body = {"reason_for_visit": "Cough for a week", "appointment_id": booked["id"]}
    recorded = await post_ok(
        client, "/scheduling/patients/pat-1/intake", {**body, "answers": ANSWERS}
    )
    await post_ok(client, "/scheduling/patients/pat-1/intake", {"reason_for_visit": "Follow-up"})

    record = await read_patient(client, "pat-1", until=lambda r: len(r["intakes"]) == 2)
    first, second = record["intakes"]
    assert first["intake_id"] == recorded["id"]
    assert first["appointment_id"] == booked["id"]
    assert first["reason_for_visit"] == "Cough for a week"
    assert first["answers"] == ANSWERS
    assert (second["appointment_id"], second["answers"]) == (None, [])


async def test_an_intake_naming_another_patients_appointment_is_refused(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await post_ok(client, "/scheduling/patients", PATIENT)
    await register(client, "pat-9")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="pat-9"))
    before = await events_written(suite)
    for appointment_id in (booked["id"], "no-such-appointment"):
        response = await client.post(
            "/scheduling/patients/pat-1/intake",
            json={"reason_for_visit": "x", "appointment_id": appointment_id},
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == (
            f"appointment {appointment_id} is not one of patient pat-1's"
        )
    assert await events_written(suite) == before


BAD_PATIENT_INPUT: list[tuple[str, dict[str, Any], int]] = [
    ("/scheduling/patients", {**PATIENT, "email": "not-an-email"}, 422),
    ("/scheduling/patients", {**PATIENT, "address": "x" * 501}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "relationship": "cousin"}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "member_id": ""}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "member_id": "   "}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "payer_id": "a/b"}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "group": "x"}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "priority": 4}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "priority": 0}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "priority": "1"}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "relationship": "child"}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "subscriber_name": "Bo"}, 422),
    ("/scheduling/patients/pat-1/coverage", {**COVERAGE, "group_number": "x" * 51}, 422),
    ("/scheduling/patients", {**PATIENT, "patient_id": "pat-2", "sex": "F"}, 422),
    ("/scheduling/patients/nobody/coverage", COVERAGE, 404),
    ("/scheduling/patients/pat-1/intake", {"reason_for_visit": ""}, 422),
    ("/scheduling/patients/pat-1/intake", {"reason_for_visit": " "}, 422),
    ("/scheduling/patients/pat-1/intake", {"reason_for_visit": "x", "answers": "yes"}, 422),
    (
        "/scheduling/patients/pat-1/intake",
        {"reason_for_visit": "x", "answers": [{"question": "Q", "answer": "a"}] * 2},
        422,
    ),
    (
        "/scheduling/patients/pat-1/intake",
        {"reason_for_visit": "x", "answers": [{"question": "Q"}]},
        422,
    ),
    (
        "/scheduling/patients/pat-1/intake",
        {
            "reason_for_visit": "x",
            "answers": [{"question": f"Q{n}", "answer": "a"} for n in range(101)],
        },
        422,
    ),
    ("/scheduling/patients/nobody/intake", {"reason_for_visit": "x"}, 404),
]


async def test_bad_patient_input_is_refused_without_writing(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await post_ok(client, "/scheduling/patients", PATIENT)

    async def refused(case: tuple[str, dict[str, Any], int]) -> None:
        path, body, status = case
        before = await events_written(suite)
        response = await client.post(path, json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        assert "Traceback" not in response.text
        assert await events_written(suite) == before

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(BAD_PATIENT_INPUT, refused)


async def test_reading_a_patient_is_on_the_record(client: httpx.AsyncClient) -> None:
    await post_ok(client, "/scheduling/patients", PATIENT)

    async def read() -> bool:
        response = await client.get(
            "/scheduling/patients/pat-1", headers={"x-purpose-of-use": "TREAT"}
        )
        return response.status_code == 200

    await wait_until(read, message="the patient in the read model")

    async def accesses() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await client.get("/compliance/audit-log", params={"subject": "pat-1", "type": ACCESS})
        ).json()
        return found

    [entry] = await wait_until(accesses, message="the record of the read")
    assert entry["data"]["endpoint"] == "/scheduling/patients/pat-1"
    assert (entry["data"]["purpose"], entry["data"]["outcome"]) == ("TREAT", "disclosed")
