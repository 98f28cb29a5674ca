"""Putting on the record that a billing response disclosed patients' data (the `AccessLog`
that `shared.access.record_disclosure` writes through)."""

from __future__ import annotations

from collections.abc import Iterable

from services.billing.domain import streams
from services.billing.domain.access import RecordAccess, access
from shared.events import DomainEvent, Metadata
from shared.usecases import UseCases


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
        stream = streams.record_access(meta.tenant, self.new_id())
        await self._handler.handle(stream, access, command, meta, subject=_patient_of)
