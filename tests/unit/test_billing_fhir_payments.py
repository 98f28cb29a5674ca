"""Billing's payment mappings on their own: a denial's claim-level CAS and remarks on an EOB,
a reversed adjudication cancelled, a line the payer did not answer (submitted only), a
remittance from a payer not known here, not yet posted; each valid for both validators."""

from __future__ import annotations

from typing import Any

import pytest

from services.billing.api import fhir_payment_resources as resources
from tests.fhir_validation import valid

pytestmark = pytest.mark.usefixtures("hl7_validator")

CLAIM: dict[str, Any] = {
    "claim_id": "C_1",
    "patient_id": "pat_1",
    "payer_id": "aetna",
    "coverage_id": "cov_1",
    "provider_id": "dr-a",
    "total_cents": 12015,
}
CHARGE: dict[str, Any] = {
    "date_of_service": "2026-11-20",
    "lines": [
        {"line_id": "1", "code": "99213", "modifiers": ["25"], "units": 1, "fee_cents": 12000},
        {"line_id": "2", "code": "G0439", "units": 3, "fee_cents": 5},
    ],
}
DENIAL: dict[str, Any] = {
    "adjudication_id": "paper_1",
    "claim_id": "C_1",
    "status": "cancelled",
    "outcome": "denied",
    "paid_cents": 0,
    "payer_claim_control_number": "PCN-1",
    "adjudicated_on": "2026-11-24",
    "recorded_at": "2026-11-25T09:00:00+00:00",
    "posting_id": None,
    "adjustments": [{"group": "CO", "reason": "50", "amount_cents": 12015, "quantity": None}],
    "remarks": ["MA130"],
    "lines": [{"line_id": "1", "code": "99213", "paid_cents": 0, "remarks": ["N115"]}],
}


def test_a_reversed_denial_is_cancelled_with_its_claim_level_cas_and_remarks() -> None:
    eob = valid(resources.explanation_of_benefit(DENIAL, CLAIM, [CHARGE], None))
    assert (eob["id"], eob["status"], eob["disposition"]) == ("paper.1", "cancelled", "denied")
    assert eob["claim"] == {"reference": "Claim/C.1"}
    assert eob["identifier"] == [{"system": resources.PAYER_CLAIM_CONTROL, "value": "PCN-1"}]
    co, remark = eob["adjudication"]
    assert co["category"]["coding"] == [{"system": resources.CAS_GROUP, "code": "CO"}]
    assert co["reason"]["coding"] == [{"system": resources.CARC, "code": "50"}]
    assert remark["reason"]["coding"] == [{"system": resources.RARC, "code": "MA130"}]
    first, second = eob["item"]
    assert first["modifier"][0]["coding"][0]["code"] == "25"
    assert [a["category"]["coding"][0]["code"] for a in first["adjudication"]] == [
        "submitted",
        "benefit",
        "benefit",
    ]
    assert first["adjudication"][2]["reason"]["coding"][0]["code"] == "N115"
    # The payer did not answer line 2: what was submitted only.
    assert second["adjudication"] == [
        {
            "category": {
                "coding": [
                    {
                        "system": resources.ADJUDICATION,
                        "code": "submitted",
                        "display": "Submitted Amount",
                    }
                ]
            },
            "amount": {"value": 0.15, "currency": "USD"},
        }
    ]
    assert eob["payment"]["type"]["coding"][0]["code"] == "partial"
    assert "display" not in eob["insurer"]


def test_a_remittance_from_an_unknown_payer_not_yet_posted() -> None:
    doc = {
        "remittance_id": "RABC",
        "received": True,
        "payer_id": None,
        "x12_payer_id": "99999",
        "payer_name": "SOME PAYER",
        "trace_number": "CHK-1",
        "payment_cents": -2500,
        "paid_on": None,
        "payee_npi": None,
        "received_at": "2026-11-25T09:00:00+00:00",
        "received_on": "2026-11-25",
        "posted_at": None,
        "claims": [],
        "provider_adjustments": [],
    }
    payment = valid(resources.payment_reconciliation(doc, None))
    assert (payment["outcome"], payment["paymentDate"]) == ("queued", "2026-11-25")
    assert payment["paymentAmount"] == {"value": -25.0, "currency": "USD"}
    assert payment["paymentIssuer"] == {
        "type": "Organization",
        "identifier": {"system": "urn:medoffice:billing:x12-payer-id", "value": "99999"},
        "display": "SOME PAYER",
    }
    assert "requestor" not in payment
    assert "detail" not in payment
