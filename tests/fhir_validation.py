"""Validate FHIR resources with the `fhir.resources` models.

`fhir.resources` 8 (native pydantic 2) ships R5, R4B and STU3 models; its pure R4 (4.0.1)
models are only in releases built on pydantic 1. R4B mostly reworked product and medication
definitions and kept the resources used here (Patient, Appointment, Location, Schedule,
Slot, Bundle, CapabilityStatement, OperationOutcome) as R4 has them. What the models let through
and R4 would not (appointment status codes, ids of at most 64 characters) is checked here.
"""

from __future__ import annotations

import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
R4_APPOINTMENT_STATUSES = {
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
}


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, once it validated (a Bundle's entries each validate too)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    if "id" in resource:
        assert FHIR_ID.fullmatch(resource["id"]), resource["id"]
    if resource["resourceType"] == "Appointment":
        assert resource["status"] in R4_APPOINTMENT_STATUSES
    for entry in resource.get("entry", ()) if resource["resourceType"] == "Bundle" else ():
        valid(entry["resource"])
        assert entry["fullUrl"].endswith(
            f"/{entry['resource']['resourceType']}/{entry['resource']['id']}"
        )
    return resource
