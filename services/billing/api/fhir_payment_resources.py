"""Billing's payments as FHIR R4 resources: pure functions from documents.

- `ExplanationOfBenefit`: one per adjudication of a claim (`billing.payments` adjudications: a
  paper EOB or a remittance's posting), id the posting's id (a paper EOB's: its event's id);
  cancelled once the payer reversed it. Its items are the claim's lines with what was
  submitted, paid (`benefit`) and adjusted: each CAS adjustment is an adjudication whose
  category is `deductible`, `coinsurance` or `copay` for the patient's share (PR 1, 2, 3) and
  otherwise the CAS group code, its reason the CARC in X12's code system.
- `PaymentReconciliation`: one per remittance (an 835's payment, `billing.payments`
  remittances), its details the claim payments in file order and the provider-level (PLB)
  adjustments posted from it (positive amounts reduce the payment: shown negative here).

Money is integer cents in the documents and USD decimals here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.billing.api.fhir_resources import (
    CLAIM_TYPE,
    PAYER_ID,
    modifiers,
    money,
    patient_ref,
    payer_ref,
    practitioner_ref,
    procedure,
)
from shared.http.fhir import capability, fhir_id

Resource = dict[str, Any]
Doc = Mapping[str, Any]

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC = "https://x12.org/codes/remittance-advice-remark-codes"
CAS_GROUP = "https://x12.org/codes/claim-adjustment-group-codes"
PLB_REASON = "https://x12.org/codes/provider-adjustment-reason-codes"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
DETAIL_TYPE = "http://terminology.hl7.org/CodeSystem/payment-type"
PAYER_CLAIM_CONTROL = "urn:medoffice:billing:payer-claim-control-number"
CLAIM_ID = "urn:medoffice:billing:claim-id"
POSTING_ID = "urn:medoffice:billing:posting-id"
REMITTANCE_ID = "urn:medoffice:billing:remittance-id"
TRACE_NUMBER = "urn:medoffice:billing:trace-number"
NPI = "http://hl7.org/fhir/sid/us-npi"
# CARIN Blue Button's category for coinsurance (R4's adjudication code system has none).
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
# The patient's share by CARC (CAS group PR): deductible, coinsurance, copay.
PATIENT_SHARE = {
    "1": (ADJUDICATION, "deductible", "Deductible"),
    "2": (C4BB_ADJUDICATION, "coinsurance", "Coinsurance"),
    "3": (ADJUDICATION, "copay", "CoPay"),
}

CAPABILITIES = (
    capability(
        "ExplanationOfBenefit",
        ("_id", "token", "Resource-id"),
        ("patient", "reference", "ExplanationOfBenefit-patient"),
        ("claim", "reference", "ExplanationOfBenefit-claim"),
        documentation=(
            "One per adjudication of a claim (a paper EOB or a remittance's posting), "
            "cancelled once the payer reversed it: per line what was submitted, paid and "
            "adjusted (CAS group and CARC). Managers read their sites'; each read is recorded."
        ),
    ),
    capability(
        "PaymentReconciliation",
        ("_id", "token", "Resource-id"),
        ("created", "date", "PaymentReconciliation-created"),
        documentation=(
            "One per remittance (an 835's payment): the trace number, the payer, the claim "
            "payments and the provider-level adjustments. Billers, admins and auditors only."
        ),
    ),
)


def category(system: str, code: str, display: str | None = None) -> Resource:
    coding: Resource = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def adjusted(adjustment: Doc) -> Resource:
    """A CAS adjustment: its category (the patient's share by name, else the CAS group)
    and its CARC as the reason."""
    group, reason = str(adjustment["group"]), str(adjustment["reason"])
    share = PATIENT_SHARE.get(reason) if group == "PR" else None
    found: Resource = {
        "category": category(*share) if share else category(CAS_GROUP, group),
        "reason": category(CARC, reason),
        "amount": money(int(adjustment["amount_cents"])),
    }
    if adjustment.get("quantity") is not None:
        found["value"] = adjustment["quantity"]
    return found


def _lines(charges: Sequence[Doc]) -> list[tuple[Doc, Doc]]:
    return [(charge, line) for charge in charges for line in charge.get("lines") or ()]


def explanation_of_benefit(
    doc: Doc, claim: Doc, charges: Sequence[Doc], payer: Doc | None
) -> Resource:
    """An adjudication of `claim` (the claims read model's document) as an EOB."""
    paid_lines = {str(line["line_id"]): line for line in doc.get("lines") or ()}
    items: list[Resource] = []
    for n, (charge, line) in enumerate(_lines(charges), 1):
        units = int(line.get("units") or 1)
        fee = int(line.get("fee_cents") or 0)
        item: Resource = {"sequence": n, "productOrService": procedure(line["code"])}
        if found := modifiers(line):
            item["modifier"] = found
        item.update(
            servicedDate=charge["date_of_service"],
            quantity={"value": units},
            unitPrice=money(fee),
            net=money(fee * units),
        )
        adjudications = [
            {
                "category": category(ADJUDICATION, "submitted", "Submitted Amount"),
                "amount": money(fee * units),
            }
        ]
        paid = paid_lines.get(str(line["line_id"]))
        if paid is not None:
            adjudications.append(
                {
                    "category": category(ADJUDICATION, "benefit", "Benefit Amount"),
                    "amount": money(int(paid["paid_cents"])),
                }
            )
            adjudications += [adjusted(a) for a in paid.get("adjustments") or ()]
            adjudications += [
                {"category": category(ADJUDICATION, "benefit"), "reason": category(RARC, r)}
                for r in paid.get("remarks") or ()
            ]
        item["adjudication"] = adjudications
        items.append(item)
    shares: dict[tuple[str, str, str], int] = {}
    every = list(doc.get("adjustments") or ())
    for line in doc.get("lines") or ():
        every += list(line.get("adjustments") or ())
    for adjustment in every:
        share = PATIENT_SHARE.get(str(adjustment["reason"]))
        if adjustment["group"] == "PR" and share:
            shares[share] = shares.get(share, 0) + int(adjustment["amount_cents"])
    days = sorted(c["date_of_service"] for c in charges if c.get("date_of_service"))
    resource: Resource = {
        "resourceType": "ExplanationOfBenefit",
        "id": fhir_id(doc["adjudication_id"]),
        "identifier": [{"system": PAYER_CLAIM_CONTROL, "value": doc["payer_claim_control_number"]}],
        "status": "cancelled" if doc.get("status") == "cancelled" else "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": patient_ref(claim["patient_id"]),
    }
    if doc.get("posting_id"):
        resource["identifier"].append({"system": POSTING_ID, "value": doc["posting_id"]})
    if days:
        resource["billablePeriod"] = {"start": days[0], "end": days[-1]}
    resource.update(
        created=doc["recorded_at"],
        insurer=payer_ref(claim["payer_id"], payer),
        provider=practitioner_ref(claim["provider_id"]),
        claim={"reference": f"Claim/{fhir_id(claim['claim_id'])}"},
        outcome="complete",
        disposition=str(doc["outcome"]).replace("_", " "),
        insurance=[
            {
                "focal": True,
                "coverage": {"reference": f"Coverage/{fhir_id(claim['coverage_id'])}"},
            }
        ],
    )
    if items:
        resource["item"] = items
    if doc.get("adjustments") or doc.get("remarks"):
        resource["adjudication"] = [adjusted(a) for a in doc.get("adjustments") or ()] + [
            {"category": category(ADJUDICATION, "benefit"), "reason": category(RARC, r)}
            for r in doc.get("remarks") or ()
        ]
    totals = [
        {
            "category": category(ADJUDICATION, "submitted", "Submitted Amount"),
            "amount": money(int(claim.get("total_cents") or 0)),
        },
        {
            "category": category(ADJUDICATION, "benefit", "Benefit Amount"),
            "amount": money(int(doc["paid_cents"])),
        },
    ]
    totals += [
        {"category": category(*share), "amount": money(cents)}
        for share, cents in sorted(shares.items(), key=lambda s: s[0][1])
    ]
    resource["total"] = totals
    payment: Resource = {
        "type": category(PAYMENT_TYPE, "complete" if doc["outcome"] == "paid" else "partial"),
        "date": doc["adjudicated_on"],
        "amount": money(int(doc["paid_cents"])),
    }
    resource["payment"] = payment
    return resource


def payment_reconciliation(doc: Doc, payer: Doc | None) -> Resource:
    """A remittance: the payment, its claim payments and provider-level adjustments."""
    details: list[Resource] = []
    for claim in doc.get("claims") or ():
        details.append(
            {
                "identifier": {
                    "system": PAYER_CLAIM_CONTROL,
                    "value": claim["payer_claim_control_number"],
                },
                "type": category(DETAIL_TYPE, "payment", "Payment"),
                "request": {
                    "type": "Claim",
                    "identifier": {"system": CLAIM_ID, "value": claim["claim_ref"]},
                },
                "amount": money(int(claim["paid_cents"])),
            }
        )
    for adjustment in doc.get("provider_adjustments") or ():
        details.append(
            {
                "identifier": {"system": PLB_REASON, "value": adjustment["reference"]},
                "type": {
                    "coding": [
                        {"system": DETAIL_TYPE, "code": "adjustment", "display": "Adjustment"},
                        {"system": PLB_REASON, "code": adjustment["reason"]},
                    ]
                },
                "date": adjustment["fiscal_period_end"],
                "amount": money(-int(adjustment["amount_cents"])),
            }
        )
    posted = bool(doc.get("posted_at"))
    resource: Resource = {
        "resourceType": "PaymentReconciliation",
        "id": fhir_id(doc["remittance_id"]),
        "identifier": [{"system": REMITTANCE_ID, "value": doc["remittance_id"]}],
        "status": "active",
        "created": doc["received_at"],
        "paymentIssuer": payer_ref(doc.get("payer_id") or doc["x12_payer_id"], payer),
    }
    if doc.get("payer_id") is None:
        resource["paymentIssuer"]["identifier"]["system"] = "urn:medoffice:billing:x12-payer-id"
        resource["paymentIssuer"]["display"] = doc["payer_name"]
    if doc.get("payee_npi"):
        resource["requestor"] = {
            "type": "Organization",
            "identifier": {"system": NPI, "value": doc["payee_npi"]},
        }
    resource.update(
        outcome="complete" if posted else "queued",
        disposition="posted" if posted else "received, not yet posted",
        paymentDate=doc.get("paid_on") or doc["received_on"],
        paymentAmount=money(int(doc["payment_cents"])),
        paymentIdentifier={"system": TRACE_NUMBER, "value": doc["trace_number"]},
    )
    if details:
        resource["detail"] = details
    return resource


__all__ = ["CAPABILITIES", "PAYER_ID", "explanation_of_benefit", "payment_reconciliation"]
