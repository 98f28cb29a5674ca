"""What billing learns, through the HTTP API of the whole suite: patients and coverages
registered at scheduling's front desk, providers hired and enrolled through staffing, read
back from billing with PHI opened for billers, on the record, redacted once forgotten."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.billing.domain import streams
from services.suite import Suite
from tests.api.billing_helpers import billing_knows_patient, billing_knows_provider, cover, enrol
from tests.api.conftest import TokenFor, post_ok
from tests.api.staffing_helpers import FAMILY_MEDICINE, NPI, hire_provider
from tests.support import every_case_holds, wait_until

BILLING_ACCESS = "medoffice.billing.PatientRecordAccessed.v1"
PATIENT = {
    "patient_id": "pat-1",
    "name": "Ada Example",
    "birth_date": "1980-05-06",
    "sex": "female",
}


@pytest.fixture
def biller(token_for: TokenFor) -> dict[str, str]:
    return token_for("biller")


async def covered_patient(client: httpx.AsyncClient) -> None:
    await post_ok(client, "/scheduling/patients", PATIENT)
    await cover(client, "pat-1", coverage_id="cov-1", group_number="GRP-1")
    await cover(
        client,
        "pat-1",
        payer_id="globe",
        coverage_id="cov-2",
        relationship="spouse",
        subscriber_name="Bo Example",
        member_id="G-777",
    )


async def test_a_patients_coverages_are_learnt_and_read_opened_by_a_biller_on_the_record(
    client: httpx.AsyncClient, biller: dict[str, str]
) -> None:
    await covered_patient(client)

    account = await billing_knows_patient(client, biller, "pat-1", ["cov-1", "cov-2"])

    assert (account["patient_id"], account["known"], account["forgotten"]) == (
        "pat-1",
        True,
        False,
    )
    primary, secondary = account["coverages"]
    assert primary == {
        "coverage_id": "cov-1",
        "payer_id": "acme-health",
        "plan": "PPO",
        "priority": 1,
        "relationship": "self",
        "member_id": "M-pat-1",
        "subscriber_name": "",
        "group_number": "GRP-1",
    }
    assert {k: secondary[k] for k in ("coverage_id", "priority", "member_id")} == {
        "coverage_id": "cov-2",
        "priority": 2,
        "member_id": "G-777",
    }
    assert (secondary["relationship"], secondary["subscriber_name"]) == ("spouse", "Bo Example")

    async def recorded() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await client.get(
                "/compliance/audit-log", params={"subject": "pat-1", "type": BILLING_ACCESS}
            )
        ).json()
        return found

    entries = await wait_until(recorded, message="billing's disclosure in the audit log")
    assert entries[0]["data"]["endpoint"] == "/billing/patients/pat-1/coverages"
    assert entries[0]["actor"] == "tester"


async def test_a_new_primary_replaces_the_old_one_in_billing_too(
    client: httpx.AsyncClient, biller: dict[str, str]
) -> None:
    await covered_patient(client)
    await cover(client, "pat-1", payer_id="north", coverage_id="cov-3", priority=1)

    account = await billing_knows_patient(client, biller, "pat-1", ["cov-3"])

    assert [(c["coverage_id"], c["priority"]) for c in account["coverages"]] == [
        ("cov-3", 1),
        ("cov-2", 2),
    ]


READERS: list[tuple[tuple[str, ...], int]] = [
    (("biller",), 200),
    (("auditor",), 200),
    (("admin",), 200),
    (("manager",), 403),
    (("front_desk",), 403),
    (("clinician",), 403),
    (("hr",), 403),
]


async def test_who_reads_what_billing_learnt(
    client: httpx.AsyncClient, biller: dict[str, str], token_for: TokenFor
) -> None:
    await covered_patient(client)
    await hire_provider(client, "dr-a", ["north"])
    await billing_knows_patient(client, biller, "pat-1", ["cov-1"])
    await billing_knows_provider(client, biller, "dr-a")

    async def answered(case: tuple[tuple[str, ...], int]) -> None:
        roles, status = case
        headers = token_for(*roles, sites=["north"])
        for path in ("/billing/patients/pat-1/coverages", "/billing/providers/dr-a"):
            response = await client.get(path, headers=headers)
            assert response.status_code == status, response.text

    await every_case_holds(READERS, answered)


async def test_a_patient_or_provider_billing_never_learnt_is_a_404(
    client: httpx.AsyncClient, biller: dict[str, str]
) -> None:
    for path in ("/billing/patients/nobody/coverages", "/billing/providers/nobody"):
        response = await client.get(path, headers=biller)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_forgotten_patient_reads_redacted_in_billing(
    client: httpx.AsyncClient, biller: dict[str, str]
) -> None:
    await covered_patient(client)
    await billing_knows_patient(client, biller, "pat-1", ["cov-1", "cov-2"])

    forgotten = await client.post("/scheduling/patients/pat-1/forget", json={"reason": "asked"})
    assert forgotten.status_code == 200, forgotten.text

    async def redacted() -> dict[str, Any]:
        response = await client.get("/billing/patients/pat-1/coverages", headers=biller)
        account: dict[str, Any] = response.json()
        return account if account["forgotten"] else {}

    account = await wait_until(redacted, message="billing to learn the forgetting")
    text = str(account)
    assert not [v for v in ("M-pat-1", "G-777", "Bo Example") if v in text]
    assert {c["member_id"] for c in account["coverages"]} == {"[redacted]"}
    assert account["coverages"][1]["subscriber_name"] == "[redacted]"


async def test_a_provider_is_learnt_with_npi_and_enrolments(
    client: httpx.AsyncClient, biller: dict[str, str]
) -> None:
    await hire_provider(client, "dr-a", ["north"], name="Dr. A")
    await enrol(client, "dr-a", "acme-health")
    await enrol(client, "dr-a", "globe", effective_from="2027-01-01")

    provider = await billing_knows_provider(client, biller, "dr-a", payer_ids=["acme-health"])

    assert (provider["name"], provider["npi"], provider["taxonomy_code"]) == (
        "Dr. A",
        NPI,
        FAMILY_MEDICINE,
    )
    assert provider["enrolled_with"] == ["acme-health"]  # globe only from next year

    async def every_change() -> dict[str, Any]:
        found: dict[str, Any] = (await client.get("/billing/providers/dr-a", headers=biller)).json()
        return found if len(found["enrolments"]) == 4 else {}

    provider = await wait_until(every_change, message="every enrolment change learnt")
    assert [
        (e["payer_id"], e["status"]) for e in provider["enrolments"] if e["payer_id"] == "globe"
    ] == [
        ("globe", "applied"),
        ("globe", "enrolled"),
    ]


async def test_reads_wait_for_billings_own_stream_version(
    client: httpx.AsyncClient, biller: dict[str, str], suite: Suite
) -> None:
    await covered_patient(client)
    await hire_provider(client, "dr-a", ["north"])
    store = suite.service("billing").event_store
    assert store is not None
    reads = {
        "/billing/patients/pat-1/coverages": streams.patient_account("acme", "pat-1"),
        "/billing/providers/dr-a": streams.rendering_provider("acme", "dr-a"),
    }
    for path, stream in reads.items():

        async def head(stream: str = stream) -> int:
            return await store.version(stream)

        version = await wait_until(head, message=f"billing to write {stream}")

        at_head = await client.get(path, params={"after_version": version}, headers=biller)
        assert at_head.status_code == 200, at_head.text
        named = await client.get(
            path, params={"after_stream": stream, "after_version": version}, headers=biller
        )
        assert named.status_code == 200, named.text

        beyond = await client.get(path, params={"after_version": version + 50}, headers=biller)
        assert beyond.status_code == 422, beyond.text
        assert "does not exist" in beyond.json()["detail"]

        elsewhere = await client.get(
            path,
            params={"after_stream": "acme:charge:x", "after_version": 1},
            headers=biller,
        )
        assert elsewhere.status_code == 400, elsewhere.text
