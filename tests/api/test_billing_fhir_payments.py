"""Billing's payments as FHIR R4 on both backends: an ExplanationOfBenefit per adjudication
(a paper EOB posted through the API; a remittance's posting taken back: cancelled), read and
searched by patient and claim, each read recorded; a PaymentReconciliation per remittance
(its claim payments and provider-level adjustments), read and searched by date, by billers,
admins and auditors only. Every resource valid for the HL7 validator and `fhir.resources`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.domain import streams
from services.billing.domain.claims import claim_id_for
from services.billing.domain.events import (
    Adjustment,
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    LineAdjudication,
    ProviderAdjustmentPosted,
    RemittanceClaimsReceived,
    RemittancePosted,
    RemittanceReceived,
    RemittedClaim,
    remittance_id_for,
)
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.api.test_billing_fhir import FHIR, appears, disclosed, fhir_get, ids
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts, claim_file_use_cases, suite_facts
from tests.fhir_validation import valid
from tests.support import every_case_holds, wait_until

pytestmark = pytest.mark.usefixtures("hl7_validator")

CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
RECEIVED = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
async def facts(suite: Suite, settings: Settings, clock: ShiftedClock) -> Facts:
    facts = await suite_facts(suite, settings, clock)
    await facts.clinic("north", "aetna")
    await facts.billing_provider("south")
    for patient in ("pat-1", "pat-2"):
        await facts.patient(patient)
        await facts.coverage(patient, "aetna")
    return facts


@pytest.fixture
async def files(suite: Suite, facts: Facts, settings: Settings) -> ClaimFileUseCases:
    return await claim_file_use_cases(suite, facts, settings)


def usd(cents: int) -> dict[str, Any]:
    return {"value": cents / 100, "currency": "USD"}


def amounts(adjudications: list[dict[str, Any]]) -> list[tuple[str, str | None, float]]:
    """(category code, CARC or None, amount) of each adjudication."""
    return [
        (
            a["category"]["coding"][0]["code"],
            a["reason"]["coding"][0]["code"] if "reason" in a else None,
            a["amount"]["value"],
        )
        for a in adjudications
        if "amount" in a
    ]


async def submitted_claim(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, who: dict[str, str]
) -> str:
    """A claim for appt-1 (pat-1, north) in a file sent to the payer."""
    await facts.charge("appt-1", "pat-1")
    claim_id = claim_id_for("appt-1")

    async def ready() -> Any:
        response = await client.get(f"/billing/claims/{claim_id}", headers=who)
        return response.status_code == 200 and response.json()["status"] == "ready" or None

    await wait_until(ready, message=f"claim {claim_id} ready")
    made = await client.post("/billing/claim-files", json={"payer_id": "aetna"}, headers=who)
    assert made.status_code == 201, made.text
    [one] = made.json()["files"]
    await files.mark_batch_sent(facts.meta, one["id"], f"{one['id']}.837")
    return claim_id


EOB = {
    "outcome": "partially_paid",
    "paid_cents": 10000,
    "patient_responsibility_cents": 4000,
    "payer_claim_control_number": "AET-1",
    "adjudicated_on": DAY.isoformat(),
    "lines": [
        {
            "line_id": "1",
            "code": "99213",
            "paid_cents": 8000,
            "adjustments": [
                {"group": "CO", "reason": "45", "amount_cents": 1000},
                {"group": "PR", "reason": "1", "amount_cents": 2000},
                {"group": "PR", "reason": "2", "amount_cents": 1000},
            ],
        },
        {
            "line_id": "2",
            "code": "36415",
            "paid_cents": 2000,
            "adjustments": [{"group": "PR", "reason": "3", "amount_cents": 1000}],
        },
    ],
}


async def test_a_paper_eob_reads_as_an_explanation_of_benefit_and_a_reversal_cancels_one(
    client: httpx.AsyncClient,
    suite: Suite,
    facts: Facts,
    files: ClaimFileUseCases,
    token_for: TokenFor,
) -> None:
    biller = token_for("biller")
    claim_id = await submitted_claim(client, facts, files, biller)
    posted = await client.post(f"/billing/claims/{claim_id}/adjudication", json=EOB, headers=biller)
    assert posted.status_code == 201, posted.text

    async def one_eob() -> Any:
        bundle = await fhir_get(client, "ExplanationOfBenefit?patient=Patient/pat-1", biller)
        return bundle if bundle["total"] == 1 else None

    bundle = await wait_until(one_eob, message="pat-1's EOB")
    eob = bundle["entry"][0]["resource"]
    assert {k: eob[k] for k in ("status", "use", "patient", "provider", "claim", "outcome")} == {
        "status": "active",
        "use": "claim",
        "patient": {"reference": "Patient/pat-1"},
        "provider": {"reference": "Practitioner/dr-a"},
        "claim": {"reference": f"Claim/{claim_id}"},
        "outcome": "complete",
    }
    assert eob["type"]["coding"][0]["code"] == "professional"
    assert eob["insurer"]["identifier"]["value"] == "aetna"
    assert eob["insurance"] == [{"focal": True, "coverage": {"reference": "Coverage/cov-pat-1-1"}}]
    first, second = eob["item"]
    assert amounts(first["adjudication"]) == [
        ("submitted", None, 120.0),
        ("benefit", None, 80.0),
        ("CO", "45", 10.0),
        ("deductible", "1", 20.0),
        ("coinsurance", "2", 10.0),
    ]
    assert first["adjudication"][2]["reason"]["coding"][0]["system"] == CARC
    assert amounts(second["adjudication"]) == [
        ("submitted", None, 30.0),
        ("benefit", None, 20.0),
        ("copay", "3", 10.0),
    ]
    assert amounts(eob["total"]) == [
        ("submitted", None, TOTAL_CENTS / 100),
        ("benefit", None, 100.0),
        ("coinsurance", None, 10.0),
        ("copay", None, 10.0),
        ("deductible", None, 20.0),
    ]
    assert (eob["payment"]["amount"], eob["payment"]["date"]) == (usd(10000), DAY.isoformat())
    assert await disclosed(suite, "pat-1", f"{FHIR}/ExplanationOfBenefit")
    read = await fhir_get(client, f"ExplanationOfBenefit/{eob['id']}", biller)
    assert read == eob
    assert await disclosed(suite, "pat-1", f"{FHIR}/ExplanationOfBenefit/{eob['id']}")
    by_claim = f"ExplanationOfBenefit?claim=Claim/{claim_id}"
    assert ids(await fhir_get(client, by_claim, biller)) == [eob["id"]]
    assert ids(await fhir_get(client, "ExplanationOfBenefit?patient=pat-2", biller)) == []
    assert ids(await fhir_get(client, "ExplanationOfBenefit?claim=C0", biller)) == []

    # A remittance's posting of the same claim, then the payer takes it back.
    at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    posting = ClaimAdjudicated(
        claim_id=claim_id,
        outcome="paid",
        paid_cents=TOTAL_CENTS,
        patient_responsibility_cents=0,
        payer_claim_control_number="AET-2",
        adjustments=(Adjustment(group="OA", reason="23", amount_cents=0),),
        adjudicated_on=date(2026, 11, 24),
        recorded_at=at,
        posting_id="P-1",
        remittance_id="R1",
        claim_status_code="1",
    )
    reversal = ClaimAdjudicationReversed(
        claim_id=claim_id,
        posting_id="P-2",
        reverses="P-1",
        remittance_id="R2",
        payer_claim_control_number="AET-2",
        paid_cents=TOTAL_CENTS,
        patient_responsibility_cents=0,
        reversed_on=date(2026, 11, 25),
        recorded_at=at,
    )
    stream = streams.claim(facts.tenant, claim_id)
    await facts.record(stream, posting)
    taken = await appears(client, "ExplanationOfBenefit/P-1", biller)
    assert (taken["status"], taken["identifier"][1]["value"]) == ("active", "P-1")
    assert amounts(taken["adjudication"]) == [("OA", "23", 0.0)]
    await facts.record(stream, reversal)

    async def cancelled() -> Any:
        found = await fhir_get(client, "ExplanationOfBenefit/P-1", biller)
        return found if found["status"] == "cancelled" else None

    await wait_until(cancelled, message="P-1 reversed")
    both = await fhir_get(client, "ExplanationOfBenefit?patient=pat-1", biller)
    assert sorted(ids(both)) == sorted([eob["id"], "P-1"])
    await fhir_get(client, "ExplanationOfBenefit/P-9", biller, 404)

    # Who reads them: the Claim view's readers.
    for role in ("auditor", "admin"):
        await fhir_get(client, "ExplanationOfBenefit/P-1", token_for(role))
    await fhir_get(client, "ExplanationOfBenefit/P-1", token_for("manager", sites=["north"]))
    south = token_for("manager", sites=["south"])
    await fhir_get(client, "ExplanationOfBenefit/P-1", south, 404)
    assert ids(await fhir_get(client, "ExplanationOfBenefit", south)) == []
    for role in ("front_desk", "clinician"):
        await fhir_get(client, "ExplanationOfBenefit", token_for(role, sites=["north"]), 403)
    await fhir_get(client, "ExplanationOfBenefit/P-1", token_for("biller", tenant="globex"), 404)


def remittance_events(
    remittance_id: str, trace: str
) -> tuple[RemittanceReceived, RemittanceClaimsReceived, RemittancePosted]:
    received = RemittanceReceived(
        remittance_id=remittance_id,
        digest="ab" * 32,
        file_name=f"{trace}.835",
        source="upload",
        payer_id="aetna",
        x12_payer_id="60054",
        payer_name="AETNA",
        trace_number=trace,
        handling_code="I",
        payment_method="ACH",
        payment_cents=9500,
        paid_on=date(2026, 11, 24),
        payee_npi="1234567893",
        claim_count=2,
        received_at=RECEIVED,
    )
    line = LineAdjudication(
        line_id="1",
        code="99213",
        paid_cents=8000,
        adjustments=(Adjustment(group="CO", reason="45", amount_cents=4000),),
    )
    claims = RemittanceClaimsReceived(
        remittance_id=remittance_id,
        first_index=0,
        claims=(
            RemittedClaim(
                claim_ref="CAPPT1",
                status_code="1",
                charge_cents=12000,
                paid_cents=8000,
                patient_responsibility_cents=0,
                payer_claim_control_number="AET-7",
                lines=(line,),
            ),
            RemittedClaim(
                claim_ref="CAPPT2",
                status_code="1",
                charge_cents=3000,
                paid_cents=2000,
                patient_responsibility_cents=1000,
                payer_claim_control_number="AET-8",
            ),
        ),
    )
    posted = RemittancePosted(
        remittance_id=remittance_id,
        posted=2,
        already_posted=0,
        unmatched=0,
        provider_adjustments=1,
        posted_at=RECEIVED,
    )
    return received, claims, posted


async def test_a_remittance_reads_as_a_payment_reconciliation(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    biller = token_for("biller")
    remittance_id = remittance_id_for("60054", "EFT100")
    received, claims, posted = remittance_events(remittance_id, "EFT100")
    await facts.record(streams.remittance(facts.tenant, remittance_id), received, claims)
    before = await appears(client, f"PaymentReconciliation/{remittance_id}", biller)
    # Queued until posted; billing's own posting reaction may already have posted it (as
    # unmatched: these claims are not billing's), which reads complete.
    assert before["outcome"] in ("queued", "complete")
    assert before["paymentAmount"] == usd(9500)
    adjustment = ProviderAdjustmentPosted(
        adjustment_id=f"{remittance_id}-0",
        remittance_id=remittance_id,
        payer_id="aetna",
        provider_id="1234567893",
        fiscal_period_end=date(2026, 12, 31),
        reason="WO",
        reference="OVERPAY-1",
        amount_cents=500,
        posted_at=RECEIVED,
    )
    await facts.record(streams.provider_account(facts.tenant, "1234567893"), adjustment)
    await facts.record(streams.remittance(facts.tenant, remittance_id), posted)

    async def reconciled() -> Any:
        found = await fhir_get(client, f"PaymentReconciliation/{remittance_id}", biller)
        return found if found["outcome"] == "complete" and len(found["detail"]) == 3 else None

    payment = await wait_until(reconciled, message="the remittance posted")
    assert {
        k: payment[k]
        for k in ("status", "created", "paymentDate", "paymentAmount", "paymentIdentifier")
    } == {
        "status": "active",
        "created": RECEIVED.isoformat(),
        "paymentDate": "2026-11-24",
        "paymentAmount": usd(9500),
        "paymentIdentifier": {"system": "urn:medoffice:billing:trace-number", "value": "EFT100"},
    }
    assert payment["paymentIssuer"] == {
        "type": "Organization",
        "identifier": {"system": "urn:medoffice:billing:payer-id", "value": "aetna"},
        "display": "AETNA HEALTH",
    }
    assert payment["requestor"]["identifier"]["value"] == "1234567893"
    first, second, plb = payment["detail"]
    assert (first["request"]["identifier"]["value"], first["amount"]) == ("CAPPT1", usd(8000))
    assert first["type"]["coding"][0]["code"] == "payment"
    assert (second["identifier"]["value"], second["amount"]) == ("AET-8", usd(2000))
    assert [c["code"] for c in plb["type"]["coding"]] == ["adjustment", "WO"]
    assert (plb["amount"], plb["identifier"]["value"]) == (usd(-500), "OVERPAY-1")

    other_id = remittance_id_for("60054", "CHK7")
    other = remittance_events(other_id, "CHK7")[0].model_copy(
        update={"received_at": datetime(2026, 11, 26, 8, 0, tzinfo=UTC), "paid_on": None}
    )
    await facts.record(streams.remittance(facts.tenant, other_id), other)
    late = await appears(client, f"PaymentReconciliation/{other_id}", biller)
    assert (late["paymentDate"], "detail" in late) == ("2026-11-26", False)
    search = "PaymentReconciliation?created="
    assert ids(await fhir_get(client, f"{search}2026-11-25", biller)) == [remittance_id]
    assert ids(await fhir_get(client, f"{search}ge2026-11-25", biller)) == [remittance_id, other_id]
    assert ids(await fhir_get(client, f"{search}gt2026-11-25", biller)) == [other_id]
    assert ids(await fhir_get(client, f"{search}ge2026-11-25&created=lt2026-11-26", biller)) == [
        remittance_id
    ]
    assert ids(await fhir_get(client, f"PaymentReconciliation?_id={other_id}", biller)) == [
        other_id
    ]
    await fhir_get(client, "PaymentReconciliation/RNONE", biller, 404)

    for role in ("auditor", "admin"):
        await fhir_get(client, f"PaymentReconciliation/{remittance_id}", token_for(role))
    for role in ("manager", "front_desk", "clinician", "hr", "staff"):
        who = token_for(role, sites=["north"])
        await fhir_get(client, f"PaymentReconciliation/{remittance_id}", who, 403)
        await fhir_get(client, "PaymentReconciliation", who, 403)
    await fhir_get(client, f"PaymentReconciliation/{remittance_id}", token_for(
        "biller", tenant="globex"), 404)  # fmt: skip


BAD_SEARCHES: list[str] = [
    "PaymentReconciliation?created=yesterday",
    "PaymentReconciliation?created=ap2026-11-25",
    "PaymentReconciliation?patient=pat-1",
    "ExplanationOfBenefit?claim=Patient/pat-1",
    "ExplanationOfBenefit?created=2026-11-25",
    "ExplanationOfBenefit/a%20b",
]


async def test_a_bad_payment_search_is_a_400_operation_outcome(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    async def refused(path: str) -> None:
        outcome = valid(await fhir_get(client, path, token_for("biller"), 400))
        assert outcome["issue"][0]["code"] == "invalid"

    await every_case_holds(BAD_SEARCHES, refused)
