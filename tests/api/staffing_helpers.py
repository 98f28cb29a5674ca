"""Helpers for API tests that need staff: hire through staffing's HTTP API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

# A valid NPI (10 digits, Luhn over the 80840 prefix) for tests that need one.
NPI = "1234567893"
FAMILY_MEDICINE = "207Q00000X"


async def hire_provider(
    client: httpx.AsyncClient,
    provider_id: str,
    site_ids: Sequence[str],
    name: str = "Dr. Test",
    npi: str | None = NPI,
    role: str = "physician",
    hired_on: str = "2026-01-05",
    **extra: Any,
) -> dict[str, Any]:
    """Hire a provider at `site_ids` through staffing (the client must be hr or admin), with
    provider details unless `npi` is None; answers the 201's body (`id`, `stream`,
    `stream_version`). `extra` goes into the body as is (say `personal`, `manager_id`)."""
    body: dict[str, Any] = {
        "employee_id": provider_id,
        "name": name,
        "title": "Physician" if role == "physician" else role.replace("_", " ").capitalize(),
        "role": role,
        "site_ids": list(site_ids),
        "fte": 1.0,
        "hired_on": hired_on,
        **extra,
    }
    if npi is not None:
        body["provider"] = {"npi": npi, "taxonomy_code": FAMILY_MEDICINE, "specialty": "Family"}
    response = await client.post("/staffing/employees", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer
