"""Where compliance's own record of a report it answered with goes (its `PatientRecordAccessed`,
written by `shared.usecases.Disclosures`, as billing and scheduling write theirs)."""

from __future__ import annotations


def record_access_stream(tenant: str, access_id: str) -> str:
    """One response's disclosures (PatientRecordAccessed)."""
    return f"{tenant}:record-access:{access_id}"
