"""What an auditor reads about one patient, and compliance's own record of that read.

A read of a patient's record is any context's `PatientRecordAccessed` (scheduling's, billing's,
compliance's own): the CloudEvent's type names it, whatever context sent it. Its purpose is the
caller's `X-Purpose-Of-Use` (`shared/access.py`), an HL7 v3 PurposeOfUse code as FHIR uses.

The accounting of disclosures (HIPAA 45 CFR 164.528) lists the reads whose stated purpose is
outside treatment, payment and health care operations (the codes below), and outside a
disclosure to the patient themself (`PATRQT`), which the rule does not account for either. A
read that states no purpose is the workforce's own use: the access report lists it, the
accounting counts it (`unstated_purpose`) without listing it. docs/security.md says the same.

Compliance records its own `PatientRecordAccessed` when it answers with a patient's report:
the report names who read the patient's record and why, which is about the patient too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import AwareDatetime

from shared.domain import disclosure_decider
from shared.events import DomainEvent

TREATMENT = frozenset({"TREAT", "ETREAT", "CAREMGT"})
PAYMENT = frozenset(
    {"HPAYMT", "CLMATTCH", "COVAUTH", "COVERAGE", "ELIGDTRM", "ELIGVER", "ENROLLM", "REMITADV"}
)
OPERATIONS = frozenset(
    {
        "HOPERAT",
        "HACCRED",
        "HQUALIMP",
        "HSYSADMIN",
        "MEMADMIN",
        "PATADMIN",
        "PATSFTY",
        "PERFMSR",
        "RECORDMGT",
        "TRAIN",
    }
)
TO_THE_PATIENT = frozenset({"PATRQT"})
NOT_ACCOUNTED = TREATMENT | PAYMENT | OPERATIONS | TO_THE_PATIENT

READ_TYPE = "PatientRecordAccessed"


def is_record_read(event_type: str) -> bool:
    """Whether a CloudEvent type is a read of a patient's record, in any context
    (`medoffice.<context>.PatientRecordAccessed.v<n>`)."""
    parts = event_type.split(".")
    return len(parts) == 4 and parts[0] == "medoffice" and parts[2] == READ_TYPE


def stated(purpose: object) -> str | None:
    """The purpose as a code (trimmed, upper case), None when none is stated."""
    if not isinstance(purpose, str) or not purpose.strip():
        return None
    return purpose.strip().upper()


def accounted_for(purpose: object) -> bool:
    """Whether a read with this purpose is listed in the accounting of disclosures: a purpose
    stated, and not treatment, payment, operations or the patient's own request."""
    code = stated(purpose)
    return code is not None and code not in NOT_ACCOUNTED


def caused_by(root: str, links: Iterable[tuple[str, str | None]]) -> set[str]:
    """The event `root` and every event it caused, directly or through others: `links` are
    (event id, the id of the event that caused it). A cycle (a forged causation) ends."""
    children: dict[str, list[str]] = {}
    for event_id, cause in links:
        if cause is not None:
            children.setdefault(cause, []).append(event_id)
    found = {root}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def in_order(entries: Sequence[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """Entries in the order they happened: by recorded time (UTC text `at`), then by stream
    version (one commit's events share a time), then by id."""
    return sorted(
        entries,
        key=lambda e: (str(e.get("at") or ""), _int(e.get("stream_version")), str(e["event_id"])),
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


class PatientRecordAccessed(DomainEvent):
    """Compliance answered with a patient's access report or accounting of disclosures."""

    context = "compliance"

    patient_id: str
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


# Compliance's own record of a report it answered with (`shared/access.py`).
access = disclosure_decider(PatientRecordAccessed)
