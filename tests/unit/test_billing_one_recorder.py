"""Billing has one disclosure recorder: `shared.usecases.Disclosures` on `domain/access.py`'s
decider is the only code that writes `PatientRecordAccessed` (a second recorder creeping back
fails here)."""

from __future__ import annotations

from pathlib import Path

BILLING = Path(__file__).resolve().parents[2] / "services" / "billing"
RECORDER = {
    BILLING / "domain" / "events.py",  # where the event is defined
    BILLING / "domain" / "access.py",
}


def test_only_disclosures_records_a_disclosure() -> None:
    writers = [
        str(path.relative_to(BILLING))
        for path in sorted(BILLING.rglob("*.py"))
        if path not in RECORDER
        and (
            "PatientRecordAccessed(" in (text := path.read_text())
            or "streams.record_access(" in text
        )
    ]
    assert writers == []
