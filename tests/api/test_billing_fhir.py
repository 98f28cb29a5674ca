"""Billing's FHIR R4 views on both backends: Coverage (PHI opened, the read recorded),
ChargeItem and Claim, read and searched by patient and id, each resource valid for the HL7
FHIR validator and `fhir.resources`; who may read what; bad requests as OperationOutcomes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.billing.domain import streams
from services.billing.domain.claims import claim_id_for
from services.billing.domain.events import PatientForgottenLearnt, PatientRecordAccessed
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts, suite_facts
from tests.fhir_validation import valid
from tests.support import every_case_holds, wait_until

pytestmark = pytest.mark.usefixtures("hl7_validator")

FHIR = "/fhir/R4"
FHIR_JSON = "application/fhir+json"
CPT = "http://www.ama-assn.org/go/cpt"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture
async def facts(suite: Suite, settings: Settings, clock: ShiftedClock) -> Facts:
    facts = await suite_facts(suite, settings, clock)
    await facts.clinic("north", "aetna", "bcbs")
    await facts.billing_provider("south")
    for patient in ("pat-1", "pat-2"):
        await facts.patient(patient)
        await facts.coverage(patient, "aetna")
    await facts.coverage(
        "pat-2", "bcbs", priority=2, relationship="spouse", subscriber_name="J Doe"
    )
    return facts


async def fhir_get(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], status: int = 200
) -> dict[str, Any]:
    response = await client.get(f"{FHIR}/{path}", headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    return valid(response.json())


async def appears(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], *having: str
) -> Any:
    """The resource once readable (and holding each element in `having`: a Claim's diagnoses
    come from the charges read model, which may catch up after the claims one)."""

    async def probe() -> Any:
        response = await client.get(f"{FHIR}/{path}", headers=headers)
        found = response.json() if response.status_code == 200 else None
        return found if found is not None and all(k in found for k in having) else None

    return valid(await wait_until(probe, message=f"{path} readable"))


def ids(bundle: dict[str, Any]) -> list[str]:
    assert bundle["type"] == "searchset"
    assert bundle["total"] == len(bundle.get("entry", []))
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


async def disclosed(suite: Suite, patient_id: str, endpoint: str) -> bool:
    store = suite.service("billing").event_store
    assert store is not None
    return any(
        e.type == PatientRecordAccessed.type_name()
        and e.data.get("patient_id") == patient_id
        and e.data.get("endpoint") == endpoint
        for c in await store.read_all()
        for e in c.events
    )


async def test_coverages_read_with_their_phi_opened_and_the_reads_recorded(
    client: httpx.AsyncClient, suite: Suite, facts: Facts, token_for: TokenFor
) -> None:
    biller = token_for("biller")

    async def payer_named() -> Any:
        # The payer's name comes from the payers read model, which may catch up after the
        # coverage's own (a loaded fresh-clone run read the coverage between the two).
        found = await appears(client, "Coverage/cov-pat-2-2", biller)
        return found if all("display" in p for p in found["payor"]) else None

    secondary = await wait_until(payer_named, message="the coverage with its payer's name")
    assert secondary == {
        "resourceType": "Coverage",
        "id": "cov-pat-2-2",
        "status": "active",
        "subscriber": {"display": "J Doe"},
        "subscriberId": "M2PAT2",
        "beneficiary": {"reference": "Patient/pat-2"},
        "relationship": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    "code": "spouse",
                    "display": "Spouse",
                }
            ]
        },
        "payor": [
            {
                "type": "Organization",
                "identifier": {"system": "urn:medoffice:billing:payer-id", "value": "bcbs"},
                "display": "BCBS HEALTH",
            }
        ],
        "class": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "plan",
                            "display": "Plan",
                        }
                    ]
                },
                "value": "PPO",
            },
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "group",
                            "display": "Group",
                        }
                    ]
                },
                "value": "G100",
            },
        ],
        "order": 2,
    }
    assert await disclosed(suite, "pat-2", f"{FHIR}/Coverage/cov-pat-2-2")

    both = await fhir_get(client, "Coverage?patient=Patient/pat-2", biller)
    assert ids(both) == ["cov-pat-2-1", "cov-pat-2-2"]
    primary = both["entry"][0]["resource"]
    assert primary["subscriber"] == {"reference": "Patient/pat-2"}
    assert (primary["order"], primary["relationship"]["coding"][0]["code"]) == (1, "self")
    assert ids(await fhir_get(client, "Coverage?patient=pat-1,pat-2&_id=cov-pat-1-1", biller)) == [
        "cov-pat-1-1"
    ]
    assert ids(await fhir_get(client, "Coverage?patient=pat-9", biller)) == []
    assert await disclosed(suite, "pat-1", f"{FHIR}/Coverage")
    await fhir_get(client, "Coverage/cov-none", biller, 404)


async def test_charge_items_and_the_claim_made_of_them(
    client: httpx.AsyncClient, suite: Suite, facts: Facts, token_for: TokenFor
) -> None:
    biller = token_for("biller")
    await facts.charge("appt-1", "pat-1")
    await facts.charge("appt-2", "pat-2", released=False)
    claim_id = claim_id_for("appt-1")
    claim = await appears(client, f"Claim/{claim_id}", biller, "diagnosis")
    assert {k: claim[k] for k in ("status", "use", "patient", "provider", "insurance")} == {
        "status": "active",
        "use": "claim",
        "patient": {"reference": "Patient/pat-1"},
        "provider": {"reference": "Practitioner/dr-a"},
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov-pat-1-1"}}
        ],
    }
    assert claim["type"]["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}
    ]
    assert claim["priority"]["coding"][0]["code"] == "normal"
    assert claim["diagnosis"] == [
        {"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": "E11.9"}]}},
        {"sequence": 2, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": "I10"}]}},
    ]
    first, second = claim["item"]
    assert (first["sequence"], first["diagnosisSequence"], first["productOrService"]) == (
        1,
        [1, 2],
        {"coding": [{"system": CPT, "code": "99213"}]},
    )
    assert (second["quantity"], second["unitPrice"], second["net"]) == (
        {"value": 2},
        {"value": 15.0, "currency": "USD"},
        {"value": 30.0, "currency": "USD"},
    )
    assert claim["total"] == {"value": TOTAL_CENTS / 100, "currency": "USD"}
    assert await disclosed(suite, "pat-1", f"{FHIR}/Claim/{claim_id}")
    # The claim's coverage resolves here.
    coverage = await fhir_get(client, "Coverage/cov-pat-1-1", biller)
    assert coverage["beneficiary"] == claim["patient"]
    assert ids(await fhir_get(client, "Claim?patient=pat-1", biller)) == [claim_id]
    assert ids(await fhir_get(client, f"Claim?_id={claim_id}&patient=pat-2", biller)) == []

    item = await appears(client, "ChargeItem/appt-1-1", biller)
    assert {k: item[k] for k in ("status", "code", "subject", "performer", "quantity")} == {
        "status": "billable",
        "code": {"coding": [{"system": CPT, "code": "99213"}]},
        "subject": {"reference": "Patient/pat-1"},
        "performer": [{"actor": {"reference": "Practitioner/dr-a"}}],
        "quantity": {"value": 1},
    }
    assert (item["occurrenceDateTime"], item["priceOverride"]) == (
        DAY.isoformat(),
        {"value": 120.0, "currency": "USD"},
    )
    held = await appears(client, "ChargeItem/appt-2-2", biller)
    assert held["status"] == "planned"
    assert ids(await fhir_get(client, "ChargeItem?patient=Patient/pat-1", biller)) == [
        "appt-1-1",
        "appt-1-2",
    ]
    assert ids(await fhir_get(client, "ChargeItem?_id=appt-2-1,appt-1-2", biller)) == [
        "appt-1-2",
        "appt-2-1",
    ]
    assert await disclosed(suite, "pat-2", f"{FHIR}/ChargeItem")
    await fhir_get(client, "ChargeItem/appt-1-3", biller, 404)
    await fhir_get(client, "ChargeItem/appt-9-1", biller, 404)


async def test_who_reads_billing_as_fhir(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    await facts.charge("appt-1", "pat-1")
    await facts.charge("appt-2", "pat-2", site_id="south", released=False)
    claim_id = claim_id_for("appt-1")
    await appears(client, f"Claim/{claim_id}", token_for("biller"))
    await appears(client, "ChargeItem/appt-2-1", token_for("biller"))
    for role in ("auditor", "admin"):
        who = token_for(role)
        await fhir_get(client, f"Claim/{claim_id}", who)
        await fhir_get(client, "ChargeItem/appt-2-1", who)
        await fhir_get(client, "Coverage/cov-pat-1-1", who)
    north = token_for("manager", sites=["north"])
    await fhir_get(client, f"Claim/{claim_id}", north)
    await fhir_get(client, "ChargeItem/appt-1-1", north)
    await fhir_get(client, "ChargeItem/appt-2-1", north, 404)
    assert ids(await fhir_get(client, "ChargeItem", north)) == ["appt-1-1", "appt-1-2"]
    south = token_for("manager", sites=["south"])
    await fhir_get(client, f"Claim/{claim_id}", south, 404)
    assert ids(await fhir_get(client, "Claim", south)) == []
    await fhir_get(client, "Coverage/cov-pat-1-1", north, 403)
    await fhir_get(client, "Coverage", north, 403)
    for role in ("front_desk", "clinician", "hr", "staff"):
        who = token_for(role, sites=["north"])
        for path in (f"Claim/{claim_id}", "ChargeItem", "Coverage/cov-pat-1-1", "Claim"):
            outcome = await fhir_get(client, path, who, 403)
            assert outcome["issue"][0]["code"] == "forbidden"
    other = token_for("biller", tenant="globex")
    await fhir_get(client, f"Claim/{claim_id}", other, 404)
    await fhir_get(client, "Coverage/cov-pat-1-1", other, 404)
    assert ids(await fhir_get(client, "ChargeItem", other)) == []


BAD_REQUESTS: list[str] = [
    "Claim?status=active",
    "Claim?patient=",
    "Claim?patient=Practitioner/dr-a",
    "ChargeItem?patient=pat_1",
    "ChargeItem/a%20b",
    "Coverage/" + "x" * 65,
    "Coverage?_id=Claim/x",
    "Claim/C1?x=1",
]


async def test_a_bad_request_is_a_400_operation_outcome(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    async def refused(path: str) -> None:
        outcome = await fhir_get(client, path, token_for("biller"), 400)
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "invalid"

    await every_case_holds(BAD_REQUESTS, refused)


async def test_a_forgotten_patient_coverage_shows_no_member_id_and_still_validates(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    biller = token_for("biller")
    before = await appears(client, "Coverage/cov-pat-2-2", biller)
    assert (before["subscriberId"], before["subscriber"]) == ("M2PAT2", {"display": "J Doe"})
    forgotten = PatientForgottenLearnt(patient_id="pat-2", learnt_from="forget-pat-2")
    await facts.record(streams.patient_account("acme", "pat-2"), forgotten)

    async def without_phi() -> Any:
        response = await client.get(f"{FHIR}/Coverage/cov-pat-2-2", headers=biller)
        found = response.json()
        return found if "subscriberId" not in found else None

    after = valid(await wait_until(without_phi, message="pat-2 forgotten in billing"))
    assert "subscriber" not in after
    assert (after["beneficiary"], after["order"]) == ({"reference": "Patient/pat-2"}, 2)


async def test_a_charge_item_with_a_digest_id_reads_by_it(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    biller = token_for("biller")
    long_id = "v" * 64
    await facts.charge(long_id, "pat-1", released=False)

    async def both_lines() -> Any:
        bundle = await fhir_get(client, "ChargeItem?patient=pat-1", biller)
        return bundle if bundle["total"] == 2 else None

    search = await wait_until(both_lines, message="the long charge's lines")
    first = search["entry"][0]["resource"]
    assert first["id"].startswith("chargeitem-")
    assert await fhir_get(client, f"ChargeItem/{first['id']}", biller) == first
    await fhir_get(client, f"ChargeItem/chargeitem-{'0' * 53}", biller, 404)
