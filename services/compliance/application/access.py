"""Compliance puts on the record that it answered with a patient's report (the `AccessLog`
that `shared.access.record_disclosure` writes through), as billing and scheduling do theirs."""

from __future__ import annotations

from collections.abc import Iterable

from services.compliance.domain.disclosures import RecordAccess, access
from shared.events import DomainEvent, Metadata
from shared.usecases import UseCases


def record_access_stream(tenant: str, access_id: str) -> str:
    """One response's disclosures (PatientRecordAccessed)."""
    return f"{tenant}:record-access:{access_id}"


def _patient_of(event: DomainEvent) -> str | None:
    return getattr(event, "patient_id", None)


class Disclosures(UseCases):
    async def record_access(
        self, meta: Metadata, patient_ids: Iterable[str], endpoint: str, purpose: str | None
    ) -> None:
        """Record `PatientRecordAccessed` per patient the response disclosed."""
        command = RecordAccess(
            patient_ids=tuple(patient_ids),
            endpoint=endpoint,
            purpose=purpose,
            outcome="disclosed",
            accessed_at=self.now(),
        )
        if not command.patient_ids:
            return
        stream = record_access_stream(meta.tenant, self.new_id())
        await self.decide(stream, access, command, meta, subject=_patient_of)
