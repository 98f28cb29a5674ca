"""Scheduling's read models as FHIR R4 resources: pure functions from documents to JSON dicts.

Documents come with their PHI already opened (or `[redacted]` for a forgotten patient).
Redacted PHI is shown as withheld: a data-absent-reason `masked` on the element and a
REDACTED security label on the resource, so the resource still validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.scheduling.api.fhir.ids import (
    fhir_id,
    room_location_id,
    schedule_id,
    site_location_id,
    slot_id,
)
from shared.http.fhir import FHIR_VERSION, capability
from shared.phivault import REDACTED

Resource = dict[str, Any]
Doc = Mapping[str, Any]


DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
# R4 core has no extension for a Location's time zone (`timezone` is R5's, and R4's
# `tz-offset` is for dates), so this server defines one, serves its StructureDefinition at
# StructureDefinition/location-timezone and names it by this canonical URL.
LOCATION_TIMEZONE_ID = "location-timezone"
LOCATION_TIMEZONE = f"http://medoffice/fhir/R4/StructureDefinition/{LOCATION_TIMEZONE_ID}"
IANA_TIMEZONES = "http://hl7.org/fhir/ValueSet/timezones"
SECURITY_OBSERVATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
# Visit types are each group's own catalogue: codes are our visit type ids.
VISIT_TYPE_SYSTEM = "urn:medoffice:scheduling:visit-type"

MASKED = {"url": DATA_ABSENT, "valueCode": "masked"}
REDACTED_LABEL = {"system": SECURITY_OBSERVATION, "code": "REDACTED", "display": "redacted"}

# Our appointment statuses in the R4 AppointmentStatus code system. `checked_in` is the front
# desk's check-in: pre-encounter administrative work is complete and the encounter may begin,
# which is R4's `checked-in` (R4's `arrived` is the step before: waiting, not yet checked in).
# `in_room` is still `checked-in`: the visit is under way but not over, and R4 has no code for
# rooming; `fulfilled` is kept for a completed visit.
APPOINTMENT_STATUS = {
    "booked": "booked",
    "checked_in": "checked-in",
    "in_room": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
    # Undone by the process that booked it (a series refused whole): it never was one.
    "withdrawn": "entered-in-error",
}


class UnmappedStatus(ValueError):
    """An appointment status with no FHIR equivalent yet: a mapping to add, not to guess."""


@dataclass(frozen=True)
class Directory:
    """A tenant's sites, rooms, providers and visit types by id, for names and time zones."""

    sites: Mapping[str, Doc] = field(default_factory=dict)
    rooms: Mapping[str, Doc] = field(default_factory=dict)
    providers: Mapping[str, Doc] = field(default_factory=dict)
    visit_types: Mapping[str, Doc] = field(default_factory=dict)


def reference(kind: str, resource_id: str, display: str | None = None) -> dict[str, str]:
    ref = {"reference": f"{kind}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def instant(iso: str) -> str:
    """A stored ISO time (UTC, `+00:00`) as a FHIR instant in UTC (`Z`)."""
    return datetime.fromisoformat(iso).isoformat().replace("+00:00", "Z")


def patient(record: Doc) -> Resource:
    """A patient's demographics (PHI opened, or `[redacted]` once forgotten)."""
    resource: Resource = {"resourceType": "Patient", "id": fhir_id(record["patient_id"])}
    redacted = False
    name = record.get("name")
    if name == REDACTED:
        resource["name"] = [{"extension": [MASKED]}]
        redacted = True
    elif name:
        resource["name"] = [{"text": name}]
    telecom = []
    for system, key in (("phone", "phone"), ("email", "email")):
        value = record.get(key)
        if value == REDACTED:
            telecom.append({"extension": [MASKED], "system": system})
            redacted = True
        elif value:
            telecom.append({"system": system, "value": value})
    if telecom:
        resource["telecom"] = telecom
    birth_date = record.get("birth_date")
    if birth_date == REDACTED:
        resource["_birthDate"] = {"extension": [MASKED]}
        redacted = True
    elif birth_date:
        resource["birthDate"] = birth_date
    # FHIR's administrative gender codes, as registered. Redacted, it is left out: `gender`
    # is bound to its value set (required), so a masked `_gender` alone is invalid R4.
    sex = record.get("sex")
    if sex == REDACTED:
        redacted = True
    elif sex:
        resource["gender"] = sex
    if redacted or record.get("forgotten"):
        resource["meta"] = {"security": [REDACTED_LABEL]}
    return resource


def appointment(doc: Doc, directory: Directory) -> Resource:
    """An appointment with its participants: patient, provider, site and room (if any)."""
    status = doc["status"]
    if status not in APPOINTMENT_STATUS:
        raise UnmappedStatus(f"no FHIR status for appointment status {status!r}")
    start, end = datetime.fromisoformat(doc["start"]), datetime.fromisoformat(doc["end"])
    resource: Resource = {
        "resourceType": "Appointment",
        "id": fhir_id(doc["appointment_id"]),
        "status": APPOINTMENT_STATUS[status],
    }
    reason = doc.get("cancel_reason")
    if reason == REDACTED:
        resource["cancelationReason"] = {"extension": [MASKED]}
        resource["meta"] = {"security": [REDACTED_LABEL]}
    elif reason:
        resource["cancelationReason"] = {"text": reason}
    procedures = doc.get("procedures") or ()
    if procedures:
        resource["serviceType"] = [_concept(_procedure_system(code), code) for code in procedures]
    visit_type = directory.visit_types.get(doc["visit_type_id"], {})
    resource["appointmentType"] = {
        "coding": [_coding(VISIT_TYPE_SYSTEM, doc["visit_type_id"], visit_type.get("name"))],
        **({"text": visit_type["name"]} if visit_type.get("name") else {}),
    }
    diagnoses = doc.get("diagnoses") or ()
    if diagnoses:
        resource["reasonCode"] = [_concept(ICD10CM, code) for code in diagnoses]
    resource["start"] = instant(doc["start"])
    resource["end"] = instant(doc["end"])
    resource["minutesDuration"] = int((end - start).total_seconds() // 60)
    if doc.get("booked_at"):
        resource["created"] = instant(doc["booked_at"])
    provider = directory.providers.get(doc["provider_id"], {})
    site = directory.sites.get(doc["site_id"], {})
    actors = [
        reference("Patient", fhir_id(doc["patient_id"])),
        reference("Practitioner", fhir_id(doc["provider_id"]), provider.get("name")),
        reference("Location", site_location_id(doc["site_id"]), site.get("name")),
    ]
    room_id = doc.get("room_id")
    if room_id:
        room = directory.rooms.get(room_id, {})
        actors.append(reference("Location", room_location_id(room_id), room.get("name")))
    resource["participant"] = [
        {"actor": actor, "required": "required", "status": "accepted"} for actor in actors
    ]
    return resource


def site_location(site: Doc) -> Resource:
    """A site: a Location of physical type site, with its IANA time zone."""
    return {
        "resourceType": "Location",
        "id": site_location_id(site["site_id"]),
        "extension": [{"url": LOCATION_TIMEZONE, "valueCode": site["time_zone"]}],
        "status": "active",
        "name": site["name"],
        "mode": "instance",
        "physicalType": _concept(PHYSICAL_TYPE, "si", "Site"),
    }


def room_location(room: Doc, site: Doc | None) -> Resource:
    """A room: a Location of physical type room, part of its site."""
    return {
        "resourceType": "Location",
        "id": room_location_id(room["room_id"]),
        "status": "active",
        "name": room["name"],
        "mode": "instance",
        "physicalType": _concept(PHYSICAL_TYPE, "ro", "Room"),
        "partOf": reference(
            "Location", site_location_id(room["site_id"]), site.get("name") if site else None
        ),
    }


def schedule(provider: Doc, site_id: str, directory: Directory) -> Resource:
    """A provider's schedule at one of their sites."""
    site = directory.sites.get(site_id, {})
    return {
        "resourceType": "Schedule",
        "id": schedule_id(provider["provider_id"], site_id),
        "active": True,
        "actor": [
            reference("Practitioner", fhir_id(provider["provider_id"]), provider.get("name")),
            reference("Location", site_location_id(site_id), site.get("name")),
        ],
    }


def slot(
    provider_id: str, site_id: str, visit_type: Doc, start: datetime, end: datetime
) -> Resource:
    """Free time in a provider's schedule at a site, long enough for one visit of the type,
    with the provider and a suitable room both free."""
    name = visit_type.get("name")
    return {
        "resourceType": "Slot",
        "id": slot_id(provider_id, site_id, visit_type["visit_type_id"], start),
        "appointmentType": {
            "coding": [_coding(VISIT_TYPE_SYSTEM, visit_type["visit_type_id"], name)],
            **({"text": name} if name else {}),
        },
        "schedule": reference("Schedule", schedule_id(provider_id, site_id)),
        "status": "free",
        "start": _utc_instant(start),
        "end": _utc_instant(end),
    }


def _utc_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def location_timezone_definition() -> Resource:
    """The StructureDefinition of the extension that carries a site's time zone."""
    return {
        "resourceType": "StructureDefinition",
        "id": LOCATION_TIMEZONE_ID,
        "url": LOCATION_TIMEZONE,
        "version": "1",
        "name": "LocationTimezone",
        "title": "Location time zone",
        "status": "active",
        "date": "2026-11-30",
        "publisher": "medoffice",
        "description": (
            "The IANA time zone (a tz database name, e.g. America/New_York) that a site keeps. "
            "Its local days are the days of Appointment `date` and Slot `start` searches."
        ),
        "fhirVersion": FHIR_VERSION,
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": "Location"}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Extension",
                    "path": "Extension",
                    "short": "The site's IANA time zone",
                    "definition": "The IANA time zone whose local days the site keeps.",
                    "min": 0,
                    "max": "1",
                },
                {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": LOCATION_TIMEZONE},
                {
                    "id": "Extension.value[x]",
                    "path": "Extension.value[x]",
                    "min": 1,
                    "type": [{"code": "code"}],
                    "binding": {"strength": "required", "valueSet": IANA_TIMEZONES},
                },
            ]
        },
    }


# What this server publishes, by id: served at StructureDefinition/<id>.
PUBLISHED = {LOCATION_TIMEZONE_ID: location_timezone_definition}

# What scheduling's FHIR view serves, for the server's CapabilityStatement (shared.http.fhir).
# Practitioner (whom appointments and schedules name) is staffing's.
CAPABILITIES = (
    capability("Patient", searchable=False),
    capability(
        "Appointment",
        ("patient", "reference", "Appointment-patient"),
        ("date", "date", "Appointment-date"),
        documentation="Dates in `date` are the site's local dates, from 0002-01-01 to 9998-12-31.",
    ),
    capability("Location"),
    capability("Schedule", ("actor", "reference", "Schedule-actor")),
    capability(
        "Slot",
        ("schedule", "reference", "Slot-schedule"),
        ("start", "date", "Slot-start"),
        ("appointment-type", "token", "Slot-appointment-type"),
        ("status", "token", "Slot-status"),
        readable=False,
        documentation=(
            "Slots are computed free time: search them by one `schedule`, optionally one "
            f"`appointment-type` (a visit type code of {VISIT_TYPE_SYSTEM}; by default the "
            "shortest the provider may see), `start` (the site's local dates; by default the "
            "site's today and the six days after; at most 92 days) and `_count` (by default "
            "20, at most 200): the earliest free starts, every 15 minutes, without a Bundle "
            "total."
        ),
    ),
    capability("StructureDefinition", searchable=False),
)


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> Resource:
    return {"coding": [_coding(system, code, display)]}


def _procedure_system(code: str) -> str:
    """HCPCS Level II codes start with a letter (A-V); CPT codes with a digit."""
    return HCPCS if code[:1].isalpha() else CPT
