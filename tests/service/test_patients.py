"""Scheduling's patient use cases on the service layer (the API-level twins are in
tests/api/test_patients.py and test_key_erasure.py): registered and covered patients reach the
patients read model sealed, open with their key, and read `[redacted]` once forgotten."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.scheduling.app import UseCases
from services.scheduling.application.patients import open_patient
from services.scheduling.projections.patients import PATIENTS, PROJECTION
from shared.domain import Invalid, Rejected
from shared.kit import Assembled
from shared.phivault import REDACTED
from shared.readmodels import public
from tests.service.conftest import META
from tests.support import wait_until

COVERAGE: dict[str, Any] = {
    "patient_id": "pat-1",
    "payer_id": "acme-health",
    "payer_name": "Acme Health",
    "plan": "PPO Gold",
    "relationship": "self",
    "member_id": "XZ-123-456",
}


async def patient(built: Assembled[UseCases], until: Any) -> dict[str, Any]:
    """The patient's document once `until(document)` holds, as stored (sealed)."""

    async def read() -> dict[str, Any] | None:
        doc = public(await built.kit.read_models.get(PROJECTION, PATIENTS, "acme:pat-1"))
        return doc if doc is not None and until(doc) else None

    found = await wait_until(read, message="the patient in the read model")
    assert found is not None
    return found


async def opened(built: Assembled[UseCases], doc: dict[str, Any]) -> dict[str, Any]:
    record = dict(doc)
    await open_patient(built.kit.phi_vault(), "acme", record)
    return record


async def test_a_covered_patient_is_sealed_in_the_read_model_and_opens_with_their_key(
    scheduling_service: Assembled[UseCases],
) -> None:
    use_cases = scheduling_service.use_cases
    registered = await use_cases.scheduling.register_patient(
        META, patient_id="pat-1", name="Ada Example", birth_date=date(1980, 5, 6), phone="+1 555"
    )
    assert (registered.stream, registered.stream_version) == ("acme:patient:pat-1", 1)
    await use_cases.patients.record_coverage(META, coverage_id="cov-1", **COVERAGE)

    doc = await patient(scheduling_service, until=lambda d: len(d["coverages"]) == 1)
    assert "Ada Example" not in str(doc)
    assert "XZ-123-456" not in str(doc)
    record = await opened(scheduling_service, doc)
    assert (record["name"], record["birth_date"], record["phone"]) == (
        "Ada Example",
        "1980-05-06",
        "+1 555",
    )
    assert record["coverages"][0]["member_id"] == "XZ-123-456"

    with pytest.raises(Rejected, match="already has coverage with payer acme-health"):
        await use_cases.patients.record_coverage(META, coverage_id="cov-2", **COVERAGE)


async def test_a_forgotten_patient_reads_redacted_and_the_forgetting_is_recorded(
    scheduling_service: Assembled[UseCases],
) -> None:
    use_cases = scheduling_service.use_cases
    await use_cases.scheduling.register_patient(
        META, patient_id="pat-1", name="Ada Example", birth_date=date(1980, 5, 6), phone=""
    )
    await use_cases.patients.record_coverage(META, coverage_id="cov-1", **COVERAGE)
    await patient(scheduling_service, until=lambda d: len(d["coverages"]) == 1)

    forgotten = await use_cases.scheduling.forget_patient(META, "pat-1", "erasure request")
    assert [type(e).__name__ for e in forgotten.events] == ["PatientForgotten"]

    doc = await patient(scheduling_service, until=lambda d: d.get("forgotten_at"))
    record = await opened(scheduling_service, doc)
    assert (record["name"], record["coverages"][0]["member_id"]) == (REDACTED, REDACTED)


async def test_a_forget_the_decider_refuses_destroys_no_key(
    scheduling_service: Assembled[UseCases],
) -> None:
    use_cases = scheduling_service.use_cases
    await use_cases.scheduling.register_patient(
        META, patient_id="pat-1", name="Ada Example", birth_date=date(1980, 5, 6), phone=""
    )

    with pytest.raises(Invalid, match="needs a reason"):
        await use_cases.scheduling.forget_patient(META, "pat-1", "   ")

    doc = await patient(scheduling_service, until=lambda d: d.get("name"))
    assert (await opened(scheduling_service, doc))["name"] == "Ada Example"
