"""Recording who saw which patients' data: the mechanism every service that discloses PHI uses.

A route that answers with a patient's data (demographics, appointments, a queue, a coverage)
puts that disclosure on the record: which patients, through which endpoint, why (the caller's
`X-Purpose-Of-Use`, as in FHIR) and who asked (the request's metadata). The record itself is an
event of the disclosing service, under its own contract (scheduling's is
`PatientRecordAccessed`): it lands on the service's topic like any other event, where
compliance's audit log and ledger take it up without knowing its class. Each service keeps its
own so that a disclosure is recorded in the same place, and by the same deployment, as the
data it disclosed; this module is only the part every service would otherwise copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from fastapi import Request

from shared.events import Metadata
from shared.http.app import metadata
from shared.http.identity import Principal

PURPOSE_HEADER = "x-purpose-of-use"
MAX_PURPOSE = 100


class AccessLog(Protocol):
    """Where a service records that a response disclosed patients' data (scheduling's
    `Scheduling.record_access`). Records nothing for no patients."""

    async def record_access(
        self, meta: Metadata, patient_ids: Iterable[str], endpoint: str, purpose: str | None
    ) -> None: ...


def purpose_of_use(request: Request) -> str | None:
    """Why the caller reads patient data, when it says (`X-Purpose-Of-Use`, as in FHIR)."""
    purpose = request.headers.get(PURPOSE_HEADER)
    return purpose[:MAX_PURPOSE] if purpose else None


async def record_disclosure(
    log: AccessLog, request: Request, who: Principal, patient_ids: Iterable[str]
) -> None:
    """Record that answering `request` for `who` disclosed these patients' data."""
    await log.record_access(
        metadata(request, who), patient_ids, request.url.path, purpose_of_use(request)
    )
