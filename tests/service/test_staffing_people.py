"""Staffing's employee use cases on the service layer: events sealed, the directory kept per
site, credentials on a provider as FHIR qualifications, a forgotten employee's data redacted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.staffing.api import fhir_resources
from services.staffing.app import UseCases
from services.staffing.domain import streams
from services.staffing.domain.employees import (
    ChangeJob,
    Hire,
    Job,
    PersonalDetails,
    ProviderDetails,
    Terminate,
)
from services.staffing.domain.events import (
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
)
from services.staffing.projections.directory import (
    EMPLOYEES,
    PERSONAL,
    PROJECTION,
    SITE_STAFF,
)
from shared.domain import Decider, Invalid, Rejected
from shared.events import DomainEvent
from shared.kit import Assembled
from shared.phivault import REDACTED
from shared.readmodels import public
from tests.fhir_validation import valid
from tests.service.conftest import META
from tests.support import wait_until

JOB = Job(title="Physician", role="physician", site_ids=("north", "south"), fte=0.8)
PROVIDER = ProviderDetails(npi="1234567893", taxonomy_code="207Q00000X", specialty="Family")
PERSONAL_DATA = PersonalDetails(phone="+1 555 0100", home_address="1 Main St")


def hire(employee_id: str = "e1", **changes: Any) -> Hire:
    command = Hire(
        employee_id=employee_id,
        name="Dr. Ada Quinn",
        job=JOB,
        hired_on=date(2026, 1, 5),
        personal=PERSONAL_DATA,
        provider=PROVIDER,
    )
    return command.model_copy(update=changes)


async def doc(
    built: Assembled[UseCases], collection: str, doc_id: str, until: Any = bool
) -> dict[str, Any]:
    async def read() -> dict[str, Any] | None:
        found = public(await built.kit.read_models.get(PROJECTION, collection, doc_id))
        return found if found is not None and until(found) else None

    found = await wait_until(read, message=f"{doc_id} in {collection}")
    assert found is not None
    return found


async def test_personal_data_is_sealed_in_the_store_and_opens_with_the_employee_key(
    staffing_service: Assembled[UseCases],
) -> None:
    await staffing_service.use_cases.employees.hire(META, hire())

    stored = await staffing_service.kit.store.load(streams.employee("acme", "e1"))
    personal = next(e for e in stored if e.type.endswith("PersonalDetailsRecorded.v1"))
    assert "555" not in str(personal.data)
    assert personal.data["phone"]["subject"] == "e1"
    sealed = await doc(staffing_service, PERSONAL, "acme:e1")
    vault = staffing_service.kit.phi_vault()
    assert await vault.reveal("acme", sealed["phone"]) == "+1 555 0100"

    await staffing_service.use_cases.employees.forget_personal_data(META, "e1", "asked")
    assert await vault.reveal("acme", sealed["phone"]) == REDACTED
    with pytest.raises(Rejected):
        await staffing_service.use_cases.employees.record_personal_details(
            META, "e1", PERSONAL_DATA
        )


async def test_the_directory_lists_an_employee_at_their_sites_only(
    staffing_service: Assembled[UseCases],
) -> None:
    employees = staffing_service.use_cases.employees
    await employees.hire(META, hire())
    moved = Job(title="Lead physician", role="physician", site_ids=("south", "east"), fte=1.0)
    await employees.change_job(
        META, ChangeJob(employee_id="e1", job=moved, effective_on=date(2026, 3, 1))
    )

    await doc(staffing_service, SITE_STAFF, "acme:north:e1", lambda d: not d["listed"])
    south = await doc(staffing_service, SITE_STAFF, "acme:south:e1", lambda d: d["fte"] == 1.0)
    east = await doc(staffing_service, SITE_STAFF, "acme:east:e1")
    assert south["listed"]
    assert east["listed"]
    assert (south["title"], south["npi"], south["status"]) == (
        "Lead physician",
        PROVIDER.npi,
        "active",
    )


async def test_a_manager_must_be_an_employee(staffing_service: Assembled[UseCases]) -> None:
    employees = staffing_service.use_cases.employees
    with_manager = JOB.model_copy(update={"manager_id": "boss"})
    with pytest.raises(Invalid, match="manager boss"):
        await employees.hire(META, hire(job=with_manager))
    assert await employees.stream_version(streams.employee("acme", "e1")) == 0

    boss = Job(title="Manager", role="manager", site_ids=("north",), fte=1.0)
    await employees.hire(META, hire("boss", job=boss, provider=None, personal=None))
    await employees.hire(META, hire(job=with_manager))
    await employees.change(
        META, Terminate(employee_id="boss", last_day=date(2026, 6, 30), reason="left")
    )
    with pytest.raises(Invalid, match="manager boss"):
        await employees.hire(META, hire("e2", job=with_manager))


def _given(state: None, events: Sequence[DomainEvent]) -> Sequence[DomainEvent]:
    return events


record_as_is = Decider[None, Sequence[DomainEvent]](None, lambda s, _: s, _given)


async def test_credentials_are_qualifications_of_the_practitioner(
    staffing_service: Assembled[UseCases], hl7_validator: Any
) -> None:
    await staffing_service.use_cases.employees.hire(META, hire())
    licence = CredentialRecorded(
        credential_id="lic-1",
        employee_id="e1",
        kind="state_licence",
        issuer="NY State Education Department",
        number="123456",
        state="NY",
        issued_on=date(2020, 1, 1),
        expires_on=date(2026, 12, 31),
    )
    dea = CredentialRecorded(
        credential_id="dea-1",
        employee_id="e1",
        kind="dea_registration",
        issuer="DEA",
        number="AQ1234563",
        state="NY",
        issued_on=date(2025, 1, 1),
        expires_on=date(2027, 12, 31),
    )
    revoked_at_once = CredentialRecorded(
        credential_id="bls-1",
        employee_id="e1",
        kind="bls",
        issuer="AHA",
        number="B-1",
        issued_on=date(2026, 2, 1),
    )
    handler = staffing_service.kit.handler
    for stream, events in (
        (
            streams.credential("acme", "lic-1"),
            [
                licence,
                CredentialRenewed(
                    credential_id="lic-1", employee_id="e1", expires_on=date(2028, 12, 31)
                ),
            ],
        ),
        (
            streams.credential("acme", "dea-1"),
            [
                dea,
                CredentialVerified(
                    credential_id="dea-1",
                    employee_id="e1",
                    source="DEA",
                    verified_by="hr-1",
                    verified_at=datetime(2026, 11, 2, 10, tzinfo=UTC),
                    result="failed",
                ),
            ],
        ),
        (
            streams.credential("acme", "bls-1"),
            [
                revoked_at_once,
                CredentialRevoked(
                    credential_id="bls-1",
                    employee_id="e1",
                    effective_on=date(2026, 2, 1),
                    reason="x",
                ),
            ],
        ),
    ):
        await handler.handle(stream, record_as_is, events, META)

    employee = await doc(
        staffing_service,
        EMPLOYEES,
        "acme:e1",
        lambda d: (
            "invalid_from" in d["credentials"].get("bls-1", {})
            and "verification" in d["credentials"].get("dea-1", {})
            and d["credentials"].get("lic-1", {}).get("expires_on") == "2028-12-31"
        ),
    )
    practitioner = valid(fhir_resources.practitioner(employee, "2026-11-26"))
    assert practitioner["identifier"] == [
        {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}
    ]
    assert practitioner["active"] is True
    by_number = {q["identifier"][0]["value"]: q for q in practitioner["qualification"]}
    assert set(by_number) == {"123456", "AQ1234563"}  # BLS never was valid: left out
    assert by_number["123456"]["period"] == {"start": "2020-01-01", "end": "2028-12-31"}
    assert by_number["123456"]["issuer"] == {"display": "NY State Education Department"}
    assert by_number["123456"]["code"]["text"] == "State licence (NY)"
    assert by_number["AQ1234563"]["period"] == {"start": "2025-01-01", "end": "2026-11-01"}
    role = valid(fhir_resources.practitioner_role(employee, "2026-11-26"))
    assert [loc["reference"] for loc in role["location"]] == [
        "Location/site-north",
        "Location/site-south",
    ]
    assert role["specialty"][0]["coding"][0]["code"] == "207Q00000X"
    assert role["practitioner"] == {"reference": "Practitioner/e1", "display": "Dr. Ada Quinn"}
