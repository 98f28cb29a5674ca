"""Staffing's employees as FHIR R4 resources: pure functions from read-model documents.

A provider (anyone ever employed in a provider role, or with an NPI) is a `Practitioner`: their
NPI as identifier, their name, whether they work here today, and their credentials (licences,
certifications, registrations) as qualifications. Their `PractitionerRole` (same id) names the
sites they practise at as Locations (the ids scheduling's Locations have), and their NUCC
taxonomy code and specialty. No personal data appears in either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.staffing.projections.directory import valid_until
from shared.http.fhir import capability, fhir_id, site_location_id

Resource = dict[str, Any]
Doc = Mapping[str, Any]

US_NPI = "http://hl7.org/fhir/sid/us-npi"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
# The kinds of credential are this server's own codes (state_licence, dea_registration...).
CREDENTIAL_KIND = "urn:medoffice:staffing:credential-kind"
KIND_NAMES = {
    "state_licence": "State licence",
    "board_certification": "Board certification",
    "dea_registration": "DEA registration",
    "bls": "Basic life support",
    "acls": "Advanced cardiovascular life support",
    "malpractice_cover": "Malpractice cover",
}

CAPABILITIES = (
    capability(
        "Practitioner",
        ("_id", "token", "Resource-id"),
        ("identifier", "token", "Practitioner-identifier"),
        ("name", "string", "Practitioner-name"),
        documentation=(
            "Providers of the group, from staffing: the NPI (`identifier`, system "
            f"{US_NPI}), and credentials as qualifications, valid to the day they expire or "
            "were revoked or failed verification."
        ),
    ),
    capability(
        "PractitionerRole",
        ("_id", "token", "Resource-id"),
        ("practitioner", "reference", "PractitionerRole-practitioner"),
        ("location", "reference", "PractitionerRole-location"),
        documentation=(
            "One per provider, with the provider's id: the sites they practise at and their "
            "NUCC taxonomy code and specialty."
        ),
    ),
)


def active(doc: Doc, today: str) -> bool:
    """Employed on `today` (ISO): on leave counts; a termination only after the last day."""
    if not doc.get("hired"):
        return False
    last_day = doc.get("last_day")
    return last_day is None or today <= last_day


def practitioner(doc: Doc, today: str) -> Resource:
    resource: Resource = {"resourceType": "Practitioner", "id": fhir_id(doc["employee_id"])}
    provider = doc.get("provider")
    if provider:
        resource["identifier"] = [{"system": US_NPI, "value": provider["npi"]}]
    resource["active"] = active(doc, today)
    if doc.get("name"):
        resource["name"] = [{"text": doc["name"]}]
    qualifications = [
        q
        for _, credential in sorted((doc.get("credentials") or {}).items())
        if (q := qualification(credential)) is not None
    ]
    if qualifications:
        resource["qualification"] = qualifications
    return resource


def qualification(credential: Doc) -> Resource | None:
    """A credential as a qualification, valid from issue to its last valid day; None when it
    never was valid (revoked or failed from the day it was issued)."""
    start, end = credential["issued_on"], valid_until(dict(credential))
    if end is not None and end < start:
        return None
    kind = credential["kind"]
    name = KIND_NAMES.get(kind, kind)
    text = f"{name} ({credential['state']})" if credential.get("state") else name
    found: Resource = {
        "identifier": [{"value": credential["number"]}],
        "code": {
            "coding": [{"system": CREDENTIAL_KIND, "code": kind, "display": name}],
            "text": text,
        },
        "period": {"start": start, **({"end": end} if end else {})},
        "issuer": {"display": credential["issuer"]},
    }
    return found


def practitioner_role(doc: Doc, today: str) -> Resource:
    employee_id = doc["employee_id"]
    resource: Resource = {
        "resourceType": "PractitionerRole",
        "id": fhir_id(employee_id),
        "active": active(doc, today),
    }
    if doc.get("hired_on"):
        resource["period"] = {
            "start": doc["hired_on"],
            **({"end": doc["last_day"]} if doc.get("last_day") else {}),
        }
    resource["practitioner"] = {
        "reference": f"Practitioner/{fhir_id(employee_id)}",
        **({"display": doc["name"]} if doc.get("name") else {}),
    }
    provider = doc.get("provider")
    title = doc.get("title")
    if provider:
        coding = {
            "system": NUCC_TAXONOMY,
            "code": provider["taxonomy_code"],
            "display": provider["specialty"],
        }
        resource["code"] = [{"coding": [coding], **({"text": title} if title else {})}]
        resource["specialty"] = [{"coding": [coding], "text": provider["specialty"]}]
    elif title:
        resource["code"] = [{"text": title}]
    sites = doc.get("site_ids") or ()
    if sites:
        resource["location"] = [
            {"reference": f"Location/{site_location_id(site)}"} for site in sites
        ]
    return resource


def location_ids(doc: Doc) -> set[str]:
    return {site_location_id(site) for site in doc.get("site_ids") or ()}
