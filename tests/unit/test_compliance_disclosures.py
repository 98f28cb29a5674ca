"""The pure rules of an auditor's reads: which reads the accounting of disclosures lists, what
counts as a read of a patient's record, and following a request's chain of causes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.compliance.domain.disclosures import (
    PatientRecordAccessed,
    access,
    accounted_for,
    caused_by,
    in_order,
    is_record_read,
)
from services.compliance.projections.audit_log import (
    entry_key,
    patient_key,
    patient_prefix,
    tenant_prefix,
    utc_text,
)
from shared.domain import RecordAccess


@pytest.mark.parametrize(
    "purpose",
    ["TREAT", "ETREAT", "HPAYMT", "COVAUTH", "HOPERAT", "PATSFTY", "PATRQT", " treat "],
)
def test_treatment_payment_operations_and_the_patients_own_request_are_not_accounted(
    purpose: str,
) -> None:
    assert not accounted_for(purpose)


@pytest.mark.parametrize("purpose", ["HLEGAL", "PUBHLTH", "HRESCH", "hlegal", "SOMETHING-NEW"])
def test_any_other_stated_purpose_is_a_disclosure_to_account_for(purpose: str) -> None:
    assert accounted_for(purpose)


@pytest.mark.parametrize("purpose", [None, "", "   ", 7])
def test_a_read_that_states_no_purpose_is_not_listed(purpose: object) -> None:
    assert not accounted_for(purpose)


def test_a_read_of_a_record_is_any_contexts_patient_record_accessed() -> None:
    assert is_record_read("medoffice.scheduling.PatientRecordAccessed.v1")
    assert is_record_read("medoffice.billing.PatientRecordAccessed.v2")
    assert is_record_read(PatientRecordAccessed.type_name())
    assert not is_record_read("medoffice.staffing.PersonalRecordAccessed.v1")
    assert not is_record_read("medoffice.scheduling.PatientRegistered.v1")
    assert not is_record_read("PatientRecordAccessed")


def test_a_chain_of_causes_is_the_root_and_all_it_caused_through_others() -> None:
    links = [
        ("request", None),
        ("booked", "request"),
        ("charge", "booked"),
        ("claim", "charge"),
        ("sibling", None),  # the same request's other event, not caused by the root
        ("unrelated", "sibling"),
    ]
    assert caused_by("booked", links) == {"booked", "charge", "claim"}
    assert caused_by("claim", links) == {"claim"}
    assert caused_by("missing", links) == {"missing"}


def test_a_forged_cycle_of_causes_ends() -> None:
    assert caused_by("a", [("a", "b"), ("b", "a")]) == {"a", "b"}


def test_entries_in_the_order_they_happened() -> None:
    entries = [
        {"event_id": "c", "at": "2026-11-26T10:00:01.000000Z", "stream_version": 1},
        {"event_id": "b", "at": "2026-11-26T10:00:00.000000Z", "stream_version": 2},
        {"event_id": "a", "at": "2026-11-26T10:00:00.000000Z", "stream_version": 1},
    ]
    assert [e["event_id"] for e in in_order(entries)] == ["a", "b", "c"]


def test_one_record_per_patient_the_answer_disclosed() -> None:
    at = datetime(2026, 11, 26, 9, tzinfo=UTC)
    command = RecordAccess(
        patient_ids=("p-1", "p-2", "p-1"),
        endpoint="/compliance/patients/p-1/access-report",
        purpose="HLEGAL",
        outcome="disclosed",
        accessed_at=at,
    )
    events = access.decide(None, command)
    assert [e.patient_id for e in events if isinstance(e, PatientRecordAccessed)] == [
        "p-1",
        "p-2",
    ]


def test_a_patients_keys_sort_by_time_and_hold_no_other_patients() -> None:
    early = utc_text(datetime(2026, 11, 26, 9, tzinfo=UTC))
    late = utc_text(datetime.fromisoformat("2026-11-26T10:00:00-05:00"))
    assert patient_key("acme", "p:1", early, "e") < patient_key("acme", "p:1", late, "e")
    # A colon inside an id cannot make one patient's range reach into another's.
    assert not patient_key("acme", "p:1", early, "e").startswith(patient_prefix("acme", "p"))
    assert utc_text(datetime.fromisoformat("2026-11-26T10:00:00-05:00")) == (
        "2026-11-26T15:00:00.000000Z"
    )


def test_a_tenants_entries_sort_by_time_and_hold_no_other_tenants() -> None:
    early = utc_text(datetime(2026, 11, 26, 9, tzinfo=UTC))
    late = utc_text(datetime(2026, 11, 26, 9, 0, 0, 1, tzinfo=UTC))
    assert entry_key("acme", early, "z") < entry_key("acme", late, "a")
    assert entry_key("acme", late, "a") < tenant_prefix("acme") + "~"  # the open end of a period
    assert not entry_key("acme:1", early, "e").startswith(tenant_prefix("acme"))
