"""Validate FHIR resources twice: with the HL7 FHIR validator and with `fhir.resources`.

The HL7 validator is HAPI FHIR's `FhirInstanceValidator` against the R4 (4.0.1) core
definitions, run offline from Maven Central jars (infra/fhir-validator/) as one process per
test session: the `hl7_validator` fixture starts it (building it on first use) and `valid()`
sends it each resource. Any issue of severity error or fatal fails the test. The validator is
strict about extensions: one that neither R4 core nor the server's published
StructureDefinitions define is an error.

`fhir.resources` 8 (native pydantic 2) ships R5, R4B and STU3 models; its pure R4 (4.0.1)
models are only in releases built on pydantic 1. R4B mostly reworked product and medication
definitions and kept the resources used here (Patient, Practitioner, Appointment, Location,
Schedule, Slot, Bundle, CapabilityStatement, OperationOutcome, StructureDefinition) as R4 has
them. What the models let through and R4 would not (appointment status codes, ids of at most
64 characters) is checked here too.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from pprint import pformat
from typing import IO, Any
from zoneinfo import available_timezones

import pytest
from fhir.resources.R4B import get_fhir_model_class

from services.scheduling.api.fhir import resources

ROOT = Path(__file__).parents[1]
VALIDATOR = ROOT / "infra" / "fhir-validator" / "validator.sh"
LOG = ROOT / "var" / "fhir-validator" / "validator.log"

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
# The one error the validator makes up: to check a StructureDefinition's element types in
# every FHIR version it spans, it loads the core package of each from packages.fhir.org (here
# "hl7.fhir.r4.core#null", a version it cannot name), which is not reachable, and any
# StructureDefinition fails so, even a bare copy of R4 core's own. The definition is still
# checked: by `fhir.resources`, and by this validator using it on every site it validates.
OFFLINE_SNAPSHOT_CHECK = "Error generating Snapshot: Unable to resolve package id hl7.fhir.r4.core#"
BAD = ("error", "fatal")

Issue = dict[str, str]


def iana_time_zones() -> dict[str, Any]:
    """The IANA tz database as the CodeSystem that R4's ValueSet `timezones` draws on: the
    validator knows no such CodeSystem of its own, so without it no zone would validate."""
    return {
        "resourceType": "CodeSystem",
        "id": "iana-time-zones",
        "url": "https://www.iana.org/time-zones",
        "name": "IANATimeZones",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "concept": [{"code": zone} for zone in sorted(available_timezones())],
    }


class Hl7Validator:
    """The validator process: a resource per line in, its issues per line out."""

    def __init__(self, definitions: Sequence[Path]) -> None:
        LOG.parent.mkdir(parents=True, exist_ok=True)
        self._log = LOG.open("w")
        self._process = subprocess.Popen(
            [str(VALIDATOR), "run", *map(str, definitions)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
        )
        # The first line comes once the jars are built and the R4 definitions loaded.
        ready = self._stdout.readline()
        if ready.strip() != "ready":
            self.close()
            raise RuntimeError(f"the FHIR validator did not start:\n{LOG.read_text()[-4000:]}")

    @property
    def _stdin(self) -> IO[str]:
        assert self._process.stdin is not None
        return self._process.stdin

    @property
    def _stdout(self) -> IO[str]:
        assert self._process.stdout is not None
        return self._process.stdout

    def issues(self, resource: dict[str, Any]) -> list[Issue]:
        """Every issue the validator finds, informational ones included."""
        self._stdin.write(json.dumps(resource, separators=(",", ":")) + "\n")
        self._stdin.flush()
        answer = self._stdout.readline()
        if not answer:
            raise RuntimeError(f"the FHIR validator stopped:\n{LOG.read_text()[-4000:]}")
        found: list[Issue] = json.loads(answer)
        return found

    def errors(self, resource: dict[str, Any]) -> list[Issue]:
        """The issues of severity error or fatal, which fail a test."""
        return [
            issue
            for issue in self.issues(resource)
            if issue["severity"] in BAD
            and not (
                resource.get("resourceType") == "StructureDefinition"
                and issue["message"].startswith(OFFLINE_SNAPSHOT_CHECK)
            )
        ]

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._log.close()


_running: list[Hl7Validator] = []


@pytest.fixture(scope="session")
def hl7_validator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hl7Validator]:
    """The HL7 validator for this session, knowing what the server publishes."""
    folder = tmp_path_factory.mktemp("fhir-definitions")
    definitions = []
    published = [define() for define in resources.PUBLISHED.values()]
    for resource in [*published, iana_time_zones()]:
        path = folder / f"{resource['resourceType']}-{resource['id']}.json"
        path.write_text(json.dumps(resource))
        definitions.append(path)
    validator = Hl7Validator(definitions)
    _running.append(validator)
    try:
        yield validator
    finally:
        _running.remove(validator)
        validator.close()


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, once both validators accepted it (a Bundle's entries each validate
    with `fhir.resources` too; the HL7 validator looks inside the Bundle itself)."""
    assert _running, "valid() needs the HL7 validator: use the hl7_validator fixture"
    errors = _running[0].errors(resource)
    assert not errors, f"the HL7 FHIR validator refused it:\n{pformat(errors)}"
    return _valid_model(resource)


def _valid_model(resource: dict[str, Any]) -> dict[str, Any]:
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    if "id" in resource:
        assert FHIR_ID.fullmatch(resource["id"]), resource["id"]
    if resource["resourceType"] == "Appointment":
        assert resource["status"] in R4_APPOINTMENT_STATUSES
    for entry in resource.get("entry", ()) if resource["resourceType"] == "Bundle" else ():
        _valid_model(entry["resource"])
        assert entry["fullUrl"].endswith(
            f"/{entry['resource']['resourceType']}/{entry['resource']['id']}"
        )
    return resource
