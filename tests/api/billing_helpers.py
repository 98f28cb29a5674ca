"""Helpers for API tests that need billing to know patients and providers: billing learns them
from scheduling's and staffing's events asynchronously (across topics on Kafka), so a test
that registered a patient or hired a provider waits, bounded, until billing's read model has
them, never sleeping a fixed time.

    await register(client, "pat-1")                       # tests/api/conftest.py
    await cover(client, "pat-1", payer_id="acme-health")   # a coverage, through scheduling
    await hire_provider(client, "dr-a", ["north"])         # tests/api/staffing_helpers.py
    await enrol(client, "dr-a", "acme-health")             # applied, then enrolled
    await billing_knows_patient(client, BILLER, "pat-1", coverage_ids=["cov-pat-1-acme-health"])
    await billing_knows_provider(client, BILLER, "dr-a", payer_ids=["acme-health"])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from tests.support import wait_until


async def cover(
    client: httpx.AsyncClient,
    patient_id: str,
    payer_id: str = "acme-health",
    coverage_id: str | None = None,
    **extra: Any,
) -> str:
    """Record a coverage of the patient through scheduling (the client must be front desk,
    manager or admin); `extra` goes into the body as is (say `priority`, `relationship` with
    `subscriber_name`, `group_number`). Answers the coverage's id."""
    body: dict[str, Any] = {
        "coverage_id": coverage_id or f"cov-{patient_id}-{payer_id}",
        "payer_id": payer_id,
        "payer_name": payer_id.replace("-", " ").title(),
        "plan": "PPO",
        "relationship": "self",
        "member_id": f"M-{patient_id}",
        **extra,
    }
    response = await client.post(f"/scheduling/patients/{patient_id}/coverage", json=body)
    assert response.status_code == 201, response.text
    answer: str = response.json()["id"]
    return answer


async def enrol(
    client: httpx.AsyncClient,
    provider_id: str,
    payer_id: str,
    effective_from: str = "2026-01-01",
    effective_until: str | None = None,
) -> None:
    """Enrol the provider with the payer through staffing (applied, then enrolled), from
    `effective_from`; the client must be hr or admin."""
    for status in ("applied", "enrolled"):
        body = {
            "payer_id": payer_id,
            "status": status,
            "effective_from": effective_from,
            "effective_until": effective_until,
        }
        response = await client.post(f"/staffing/employees/{provider_id}/enrolments", json=body)
        assert response.status_code == 201, response.text


async def billing_knows_patient(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    patient_id: str,
    coverage_ids: Sequence[str] = (),
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Wait, at most `timeout` seconds, until billing has learnt the patient's registration
    and each of `coverage_ids` (`headers`: a biller's, an auditor's or an admin's). Answers
    `GET /billing/patients/{id}/coverages` (each answered read is on the record as a
    disclosure, as any read of it is)."""

    async def learnt() -> dict[str, Any]:
        response = await client.get(f"/billing/patients/{patient_id}/coverages", headers=headers)
        if response.status_code == 404:
            return {}
        assert response.status_code == 200, response.text
        account: dict[str, Any] = response.json()
        listed = {c["coverage_id"] for c in account["coverages"]}
        return account if account["known"] and set(coverage_ids) <= listed else {}

    return await wait_until(
        learnt,
        timeout=timeout,
        message=f"billing to learn patient {patient_id} and coverages {list(coverage_ids)}",
    )


async def billing_knows_provider(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    provider_id: str,
    npi: bool = True,
    payer_ids: Sequence[str] = (),
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Wait, at most `timeout` seconds, until billing has learnt the provider's name, their NPI
    (unless `npi` is False) and that they are enrolled today with each of `payer_ids`.
    Answers `GET /billing/providers/{id}`."""

    async def learnt() -> dict[str, Any]:
        response = await client.get(f"/billing/providers/{provider_id}", headers=headers)
        if response.status_code == 404:
            return {}
        assert response.status_code == 200, response.text
        provider: dict[str, Any] = response.json()
        named = provider["name"] is not None and (provider["npi"] is not None or not npi)
        return provider if named and set(payer_ids) <= set(provider["enrolled_with"]) else {}

    return await wait_until(
        learnt,
        timeout=timeout,
        message=f"billing to learn provider {provider_id} enrolled with {list(payer_ids)}",
    )
