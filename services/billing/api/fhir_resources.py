"""Billing's read models as FHIR R4 resources: pure functions from documents.

- `Coverage`: one per coverage on a patient's account (`billing.patient_accounts`), with the
  coverage's own id; the member id and subscriber name are PHI, opened by the caller before
  (and left out once the patient is forgotten). The payer is a logical Organization reference
  (the group's payer id as identifier, its name as display): no Organization is served.
- `ChargeItem`: one per line of a charge (`billing.charges`), id `<charge id>-<line id>`
  (a digest when that is longer than 64 characters): billable once the charge is released,
  planned while it is held (R4 has no on-hold status).
- `Claim`: one per claim (`billing.claims`), its items the lines of its charges, its
  diagnoses theirs (ICD-10-CM, in the order the charges give them).

Money is integer cents in the documents and USD decimals here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from shared.http.fhir import capability, fhir_id, readable_or_digest

Resource = dict[str, Any]
Doc = Mapping[str, Any]

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD_10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
DIAGNOSIS_TYPE = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
# The group's own payer ids (scheduling's coverage `payer_id`).
PAYER_ID = "urn:medoffice:billing:payer-id"
CURRENCY = "USD"

# R4's ChargeItem statuses have no "on-hold": a held charge is not to be billed yet but may be
# later, which R4 calls `planned` (`not-billable` is final).
HELD = "planned"

RELATIONSHIPS = {"self": "Self", "spouse": "Spouse", "child": "Child", "other": "Other"}

CAPABILITIES = (
    capability(
        "Coverage",
        ("_id", "token", "Resource-id"),
        ("patient", "reference", "Coverage-patient"),
        documentation=(
            "The coverages billing learnt from scheduling, by priority (`order`); the payer "
            f"as an Organization identified in {PAYER_ID}. Billers, admins and auditors read "
            "them; each read is recorded."
        ),
    ),
    capability(
        "ChargeItem",
        ("_id", "token", "Resource-id"),
        ("patient", "reference", "clinical-patient"),
        documentation=(
            "One per line of a visit's charge (id `<charge id>-<line id>`): the CPT or HCPCS "
            "code, units and fee; billable once released, planned while held. Managers read "
            "their sites'."
        ),
    ),
    capability(
        "Claim",
        ("_id", "token", "Resource-id"),
        ("patient", "reference", "Claim-patient"),
        documentation=(
            "Professional claims (837P) to a payer: the coverage billed, the ICD-10-CM "
            "diagnoses, the lines of the charges billed. Managers read their sites'."
        ),
    ),
)


def money(cents: int) -> Resource:
    return {"value": float(Decimal(cents) / 100), "currency": CURRENCY}


def procedure(code: str) -> Resource:
    """A CPT code (five characters, digits first: 99213, 0001F) or a HCPCS Level II one (a
    letter and four digits: G0439)."""
    system = HCPCS if code[:1].isalpha() else CPT
    return {"coding": [{"system": system, "code": code}]}


def modifiers(line: Doc) -> list[Resource]:
    return [{"coding": [{"system": CPT, "code": m}]} for m in line.get("modifiers") or ()]


def patient_ref(patient_id: str) -> Resource:
    return {"reference": f"Patient/{fhir_id(patient_id)}"}


def practitioner_ref(provider_id: str) -> Resource:
    return {"reference": f"Practitioner/{fhir_id(provider_id)}"}


def payer_ref(payer_id: str, payer: Doc | None) -> Resource:
    ref: Resource = {
        "type": "Organization",
        "identifier": {"system": PAYER_ID, "value": payer_id},
    }
    if payer is not None and payer.get("name"):
        ref["display"] = payer["name"]
    return ref


# ----------------------------------------------------------------------------- Coverage


def coverage(account: Doc, cover: Doc, payer: Doc | None) -> Resource:
    """A coverage of the patient's account, its PHI (member id, subscriber name) opened."""
    patient = patient_ref(account["patient_id"])
    resource: Resource = {
        "resourceType": "Coverage",
        "id": fhir_id(cover["coverage_id"]),
        "status": "active",
    }
    forgotten = bool(account.get("forgotten"))
    relationship = cover.get("relationship") or ""
    if relationship == "self":
        resource["subscriber"] = patient
    elif cover.get("subscriber_name") and not forgotten:
        resource["subscriber"] = {"display": cover["subscriber_name"]}
    if cover.get("member_id") and not forgotten:
        resource["subscriberId"] = cover["member_id"]
    resource["beneficiary"] = patient
    if relationship in RELATIONSHIPS:
        resource["relationship"] = {
            "coding": [
                {
                    "system": SUBSCRIBER_RELATIONSHIP,
                    "code": relationship,
                    "display": RELATIONSHIPS[relationship],
                }
            ]
        }
    resource["payor"] = [payer_ref(cover["payer_id"], payer)]
    classes = [
        coverage_class("plan", "Plan", cover.get("plan")),
        coverage_class("group", "Group", cover.get("group_number")),
    ]
    if found := [c for c in classes if c is not None]:
        resource["class"] = found
    resource["order"] = int(cover["priority"])
    return resource


def coverage_class(code: str, display: str, value: object) -> Resource | None:
    if not value:
        return None
    return {
        "type": {"coding": [{"system": COVERAGE_CLASS, "code": code, "display": display}]},
        "value": str(value),
    }


# ----------------------------------------------------------------------------- ChargeItem


def charge_item_id(charge_id: str, line_id: str) -> str:
    readable = f"{fhir_id(charge_id)}-{line_id}"
    return readable_or_digest(readable, "chargeitem", charge_id, line_id)


def charge_of(item_id: str) -> tuple[str, str] | None:
    """The FHIR id of the charge and the line id a readable ChargeItem id names."""
    charge, dash, line = item_id.rpartition("-")
    if not dash or not charge or not line.isdigit():
        return None
    return charge, line


def charge_items(charge: Doc) -> list[Resource]:
    return [charge_item(charge, line) for line in charge.get("lines") or ()]


def charge_item(charge: Doc, line: Doc) -> Resource:
    units = int(line.get("units") or 1)
    resource: Resource = {
        "resourceType": "ChargeItem",
        "id": charge_item_id(charge["charge_id"], line["line_id"]),
        "status": "billable" if charge.get("status") == "released" else HELD,
        "code": procedure(line["code"]),
        "subject": patient_ref(charge["patient_id"]),
        "occurrenceDateTime": charge["date_of_service"],
        "performer": [{"actor": practitioner_ref(charge["provider_id"])}],
        "quantity": {"value": units},
        "priceOverride": money(int(line.get("fee_cents") or 0) * units),
    }
    if charge.get("created_at"):
        resource["enteredDate"] = charge["created_at"]
    diagnoses = list(charge.get("diagnoses") or ())
    reasons = [
        {"coding": [{"system": ICD_10_CM, "code": diagnoses[p - 1]}]}
        for p in line.get("diagnosis_pointers") or ()
        if 1 <= p <= len(diagnoses)
    ]
    if reasons:
        resource["reason"] = reasons
    return resource


# ----------------------------------------------------------------------------- Claim


def claim(doc: Doc, charges: Sequence[Doc], payer: Doc | None) -> Resource:
    """A claim, its diagnoses and items from its charges (in the claim's charge order)."""
    diagnoses: list[str] = []
    for charge in charges:
        for code in charge.get("diagnoses") or ():
            if code not in diagnoses:
                diagnoses.append(code)
    items: list[Resource] = []
    for charge in charges:
        own = list(charge.get("diagnoses") or ())
        for line in charge.get("lines") or ():
            units = int(line.get("units") or 1)
            fee = int(line.get("fee_cents") or 0)
            item: Resource = {"sequence": len(items) + 1}
            pointers = [
                diagnoses.index(own[p - 1]) + 1
                for p in line.get("diagnosis_pointers") or ()
                if 1 <= p <= len(own)
            ]
            if pointers:
                item["diagnosisSequence"] = pointers
            item["productOrService"] = procedure(line["code"])
            if found := modifiers(line):
                item["modifier"] = found
            item["servicedDate"] = charge["date_of_service"]
            item["quantity"] = {"value": units}
            item["unitPrice"] = money(fee)
            item["net"] = money(fee * units)
            items.append(item)
    days = sorted(c["date_of_service"] for c in charges if c.get("date_of_service"))
    resource: Resource = {
        "resourceType": "Claim",
        "id": fhir_id(doc["claim_id"]),
        "identifier": [{"system": "urn:medoffice:billing:claim-id", "value": doc["claim_id"]}],
        "status": "cancelled" if doc.get("status") == "voided" else "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": patient_ref(doc["patient_id"]),
    }
    if days:
        resource["billablePeriod"] = {"start": days[0], "end": days[-1]}
    resource.update(
        created=doc["created_at"],
        insurer=payer_ref(doc["payer_id"], payer),
        provider=practitioner_ref(doc["provider_id"]),
        priority={"coding": [{"system": PROCESS_PRIORITY, "code": "normal"}]},
    )
    if diagnoses:
        resource["diagnosis"] = [
            {
                "sequence": n,
                "diagnosisCodeableConcept": {"coding": [{"system": ICD_10_CM, "code": code}]},
            }
            for n, code in enumerate(diagnoses, 1)
        ]
    resource["insurance"] = [
        {
            "sequence": 1,
            "focal": True,
            "coverage": {"reference": f"Coverage/{fhir_id(doc['coverage_id'])}"},
        }
    ]
    if items:
        resource["item"] = items
    resource["total"] = money(int(doc.get("total_cents") or 0))
    return resource
