"""Compliance's ledger on the service layer (the API-level twins are in
tests/api/test_audit_ledger.py and test_audit_any_context.py): scheduling and compliance built
side by side on the in-process bus, as two services that meet on it and nowhere else."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.compliance.app import UseCases as Compliance
from services.scheduling.app import UseCases as Scheduling
from shared.kit import Assembled
from tests.service.conftest import META
from tests.support import wait_until


async def stored_events(scheduling: Assembled[Any]) -> list[Any]:
    return [e for c in await scheduling.kit.store.read_all(0, 10_000) for e in c.events]


async def chained(compliance: Assembled[Compliance], count: int) -> dict[str, Any]:
    async def verdict() -> dict[str, Any] | None:
        report = await compliance.use_cases.ledger.verify("acme", cross_check=True)
        return report if report["entries"] == count else None

    found = await wait_until(verdict, message=f"{count} events chained")
    assert found is not None
    return found


async def test_what_scheduling_records_is_chained_once_and_matches_its_store(
    scheduling_service: Assembled[Scheduling], compliance_service: Assembled[Compliance]
) -> None:
    use_cases = scheduling_service.use_cases
    await use_cases.scheduling.register_patient(
        META, patient_id="pat-1", name="Ada Example", birth_date=date(1980, 5, 6), phone=""
    )
    await use_cases.scheduling.record_access(META, ["pat-1"], "/scheduling/patients/pat-1", None)
    events = await stored_events(scheduling_service)
    assert len(events) == 2

    report = await chained(compliance_service, len(events))
    assert report["verified"] is True
    assert report["stores"]["scheduling"]["missing"] == []
    assert report["stores"]["scheduling"]["changed"] == []

    ledger = compliance_service.use_cases.ledger
    assert await ledger.record(events) == 0  # redelivered: nothing chained twice
    unknown = events[0].model_copy(
        update={
            "id": "claim-1-1",
            "type": "medoffice.billing.ClaimSubmitted.v1",  # no contract declares it
            "source": "/medoffice/billing",
            "stream": "acme:claim:claim-1",
            "phi": (),
            "data": {"claim_id": "claim-1", "amount": "120.00"},
        }
    )
    assert await ledger.record([unknown]) == 1
    blocks = await ledger.blocks("acme", 0, 100)
    assert blocks[-1]["entries"][-1]["type"] == "medoffice.billing.ClaimSubmitted.v1"
    assert (await ledger.verify("acme"))["entries"] == len(events) + 1
