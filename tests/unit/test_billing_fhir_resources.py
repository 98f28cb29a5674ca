"""Billing's FHIR mappings on their own: HCPCS and CPT codes with modifiers, a voided claim
cancelled, a held charge planned, a charge id too long for a readable ChargeItem id, a
subscriber other than the patient; each resource valid for both validators."""

from __future__ import annotations

from typing import Any

import pytest

from services.billing.api import fhir_resources as resources
from tests.fhir_validation import valid

pytestmark = pytest.mark.usefixtures("hl7_validator")

CHARGE: dict[str, Any] = {
    "charge_id": "appt_1",
    "patient_id": "pat_1",
    "site_id": "north",
    "provider_id": "dr-a",
    "date_of_service": "2026-11-20",
    "diagnoses": ["I10", "E11.9"],
    "lines": [
        {
            "line_id": "1",
            "code": "G0439",
            "modifiers": ["25", "GT"],
            "units": 1,
            "diagnosis_pointers": [2],
            "fee_cents": 17550,
        },
        {"line_id": "2", "code": "0001F", "units": 3, "diagnosis_pointers": [1], "fee_cents": 5},
    ],
    "status": "held",
    "created_at": "2026-11-21T09:00:00+00:00",
}


def test_a_held_charge_line_is_planned_and_codes_name_their_system() -> None:
    hcpcs, cpt = (valid(r) for r in resources.charge_items(CHARGE))
    assert (hcpcs["id"], hcpcs["status"], hcpcs["code"]["coding"][0]["system"]) == (
        "appt.1-1",
        "planned",
        resources.HCPCS,
    )
    assert hcpcs["subject"] == {"reference": "Patient/pat.1"}
    assert hcpcs["reason"] == [{"coding": [{"system": resources.ICD_10_CM, "code": "E11.9"}]}]
    assert (cpt["code"]["coding"][0]["system"], cpt["priceOverride"]) == (
        resources.CPT,
        {"value": 0.15, "currency": "USD"},
    )
    released = resources.charge_items({**CHARGE, "status": "released"})
    assert [r["status"] for r in released] == ["billable", "billable"]


def test_a_long_charge_id_gives_a_digest_chargeitem_id() -> None:
    long = {**CHARGE, "charge_id": "a" * 64}
    [first, second] = resources.charge_items(long)
    valid(first)
    assert first["id"].startswith("chargeitem-")
    assert len(first["id"]) == 64
    assert first["id"] != second["id"]
    assert resources.charge_of("appt.1-2") == ("appt.1", "2")


def test_a_voided_claim_is_cancelled_with_its_items_and_modifiers() -> None:
    doc = {
        "claim_id": "CABC",
        "patient_id": "pat_1",
        "payer_id": "aetna",
        "coverage_id": "cov_1",
        "provider_id": "dr-a",
        "created_at": "2026-11-21T09:00:00+00:00",
        "total_cents": 17565,
        "status": "voided",
    }
    claim = valid(resources.claim(doc, [CHARGE], None))
    assert claim["status"] == "cancelled"
    assert "display" not in claim["insurer"]
    assert claim["insurance"][0]["coverage"] == {"reference": "Coverage/cov.1"}
    first, second = claim["item"]
    assert first["modifier"] == [
        {"coding": [{"system": resources.CPT, "code": "25"}]},
        {"coding": [{"system": resources.CPT, "code": "GT"}]},
    ]
    assert (first["diagnosisSequence"], second["diagnosisSequence"]) == ([2], [1])
    assert second["net"] == {"value": 0.15, "currency": "USD"}
    assert claim["total"] == {"value": 175.65, "currency": "USD"}


def test_a_child_covered_by_a_parent() -> None:
    account = {"patient_id": "pat-1", "forgotten": False}
    cover = {
        "coverage_id": "cov-1",
        "payer_id": "aetna",
        "plan": "HMO",
        "priority": 1,
        "relationship": "child",
        "member_id": "M1",
        "subscriber_name": "Pat Parent",
        "group_number": "",
    }
    coverage = valid(resources.coverage(account, cover, {"name": "AETNA"}))
    assert coverage["subscriber"] == {"display": "Pat Parent"}
    assert coverage["relationship"]["coding"][0]["code"] == "child"
    assert [c["value"] for c in coverage["class"]] == ["HMO"]
    assert coverage["payor"][0]["display"] == "AETNA"
