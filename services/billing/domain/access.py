"""Disclosures: a billing response that showed patients' records (coverages, charges, claims)
puts each patient on the record, as `PatientRecordAccessed`, for compliance's audit log."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import AwareDatetime

from services.billing.domain.events import PatientRecordAccessed
from shared.domain import Command, Decider
from shared.events import DomainEvent


class RecordAccess(Command):
    patient_ids: tuple[str, ...]
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


def _record(_: None, command: RecordAccess) -> Sequence[DomainEvent]:
    fields = command.model_dump(exclude={"patient_ids"})
    return [
        PatientRecordAccessed(patient_id=patient_id, **fields)
        for patient_id in dict.fromkeys(command.patient_ids)
    ]


# Each response's disclosures are a stream of their own, written in one commit: recording one
# never waits for another.
access = Decider[None, RecordAccess](None, lambda state, _: state, _record)
