"""Disclosures: a billing response that showed patients' records (coverages, charges, claims)
puts each patient on the record, as `PatientRecordAccessed`, for compliance's audit log."""

from __future__ import annotations

from services.billing.domain.events import PatientRecordAccessed
from shared.domain import disclosure_decider

access = disclosure_decider(PatientRecordAccessed)
