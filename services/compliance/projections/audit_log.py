"""The audit log: one entry per event of any context: who did what, when, to which stream.

Entries are made from the CloudEvent as it arrived (type, source, subject, id, time, stream,
version, actor, site, data), never from the producer's classes: compliance knows none, so a
type it has never seen (a new service, a new version) is logged like any other.

Entries keep the event's metadata and a digest of its data. Events without PHI keep their data
too (who read which patient's record and why, for instance); events with PHI keep only the
digest of their sealed data and the names of their PHI fields, so the log holds no patient
details yet proves what was said. An event has PHI when its envelope names PHI fields (`phi`,
set by the producer from its event's declaration), or, for events stored before envelopes
named them, when its data holds a sealed value.

Each entry names the site it is about (`site`), which decides who may read it: the site its
envelope names; else the `site_id` its data names; else the site of its stream, which is the
one the stream's first event named (a site's day, triage queue or waitlist, a series); else
none (a patient's, provider's or visit type's stream, a record of access).

Each entry also names the patient its data names (`patient`: its `patient_id`, unless the
envelope declares that field PHI), the event that caused it (`causation_id`) and its time in
UTC as sortable text (`at`). An entry's id is its tenant, then `at`, then its event id: a
period of the tenant's log is one range of ids. An event naming a patient gets a second document in
`audit_patients`, whose id is the patient's key then `at` then the event id: one patient's
entries over a period are one range of ids (the access report and the accounting of
disclosures read that range, indexed on every backend), with what a read said (endpoint,
purpose, outcome) and whether the accounting of disclosures lists it (`disclosure`: the rule
of `domain/disclosures.py`; a rebuild applies a changed rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from services.compliance.domain.disclosures import accounted_for, is_record_read, stated
from services.compliance.domain.ledger import data_digest
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "compliance.audit_log"
ENTRIES = "audit_entries"
STREAMS = "audit_streams"  # per stream: the site its first event named
PATIENTS = "audit_patients"  # per patient and time: the access report's index
CONTEXTS = (
    "scheduling",
    "staffing",
    "billing",
    "finance",
    "engagement",
    "compliance",
    "operations",
)  # and what operators did


def named_site(envelope: Envelope) -> str | None:
    """The site an event names itself: its envelope's, else its data's `site_id`."""
    site: Any = envelope.site or envelope.data.get("site_id")
    return site if isinstance(site, str) and site else None


def _is_sealed(value: Any) -> bool:
    """A PHI value as `shared.phi.Sealed` writes it: {"phi": 1, "subject", "nonce", "ct"}."""
    return isinstance(value, dict) and value.get("phi") == 1 and "ct" in value


def phi_fields(envelope: Envelope) -> tuple[str, ...]:
    """The data fields holding PHI: as the envelope names them, else the sealed ones found."""
    if envelope.phi:
        return envelope.phi
    return tuple(name for name, value in envelope.data.items() if _is_sealed(value))


def utc_text(moment: datetime) -> str:
    """A time as entries keep it in `at`: UTC to the microsecond, fixed width, so it sorts."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def patient_named(envelope: Envelope) -> str | None:
    """The patient an event's data names (`patient_id`), unless the envelope seals it."""
    patient: Any = envelope.data.get("patient_id")
    if not isinstance(patient, str) or not patient or "patient_id" in phi_fields(envelope):
        return None
    return patient


def _part(text: str) -> str:
    # Ids as parts of a key: no part may contain the separator.
    return text.replace("%", "%25").replace(":", "%3A")


def patient_prefix(tenant: str, patient_id: str) -> str:
    """The start of the id of every `audit_patients` document of this patient."""
    return f"{_part(tenant)}:{_part(patient_id)}:"


def patient_key(tenant: str, patient_id: str, at: str, event_id: str) -> str:
    return f"{patient_prefix(tenant, patient_id)}{at}:{_part(event_id)}"


def tenant_prefix(tenant: str) -> str:
    """The start of the id of every `audit_entries` document of this tenant."""
    return f"{_part(tenant)}:"


def entry_key(tenant: str, at: str, event_id: str) -> str:
    """An entry's id: its tenant, then its time (`at`), then its event id, so the tenant's
    entries over a period are one range of ids."""
    return f"{tenant_prefix(tenant)}{at}:{_part(event_id)}"


def _entry_id(envelope: Envelope) -> str:
    return entry_key(envelope.tenant, utc_text(envelope.time), envelope.id)


def _stream_id(envelope: Envelope) -> str:
    return f"{envelope.tenant}:{envelope.stream}"


def _patient_doc(envelope: Envelope, entry: Document, patient: str) -> Document:
    doc: Document = {
        k: entry[k]
        for k in (
            "tenant",
            "event_id",
            "type",
            "context",
            "stream",
            "stream_version",
            "subject",
            "site",
            "actor",
            "correlation_id",
            "time",
            "at",
        )
    }
    doc["patient"] = patient
    read = is_record_read(envelope.type) and "data" in entry
    doc["access"] = read
    doc["disclosure"] = False
    if read:
        data = envelope.data
        doc.update({k: data.get(k) for k in ("endpoint", "outcome", "accessed_at")})
        doc["purpose"] = stated(data.get("purpose"))
        doc["disclosure"] = accounted_for(data.get("purpose"))
    return doc


class AuditLogProjection:
    name = PROJECTION
    contexts = CONTEXTS
    collections = (ENTRIES, STREAMS, PATIENTS)

    def keys(self, event: DomainEvent, envelope: Envelope) -> Iterable[tuple[str, str]]:
        """What `apply` reads, for the runner to load a batch's documents in one go."""
        yield ENTRIES, _entry_id(envelope)
        if envelope.stream_version == 1 or named_site(envelope) is None:
            yield STREAMS, _stream_id(envelope)
        patient = patient_named(envelope)
        if patient is not None:
            at = utc_text(envelope.time)
            yield PATIENTS, patient_key(envelope.tenant, patient, at, envelope.id)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        """`event` is not looked at (`shared.events.AsReceived` hands over any type)."""
        stream_id = _stream_id(envelope)
        site = named_site(envelope)
        if envelope.stream_version == 1 and site is not None:

            def first(_: Document | None) -> Document:
                return {"tenant": envelope.tenant, "stream": envelope.stream, "site": site}

            await view.change(STREAMS, stream_id, envelope, first)
        elif site is None:
            stream = await view.get(STREAMS, stream_id)
            site = None if stream is None else stream.get("site")

        patient = patient_named(envelope)
        at = utc_text(envelope.time)

        def record(_: Document | None) -> Document:
            entry: Document = {
                "tenant": envelope.tenant,
                "event_id": envelope.id,
                "type": envelope.type,
                "source": envelope.source,
                "context": envelope.context,
                "stream": envelope.stream,
                "stream_version": envelope.stream_version,
                "subject": envelope.subject,
                "site": site,
                "actor": envelope.actor,
                "correlation_id": envelope.correlation_id,
                "causation_id": envelope.causation_id,
                "patient": patient,
                "time": envelope.time.isoformat(),
                "at": at,
                "data_sha256": data_digest(envelope),
            }
            sealed = phi_fields(envelope)
            if sealed:
                entry["phi"] = list(sealed)  # which fields; their values stay out of the log
            else:
                entry["data"] = envelope.data  # nothing sealed in it: auditors read it whole
            return entry

        entry = record(None)
        await view.change(ENTRIES, _entry_id(envelope), envelope, lambda _: entry)
        if patient is not None:
            doc = _patient_doc(envelope, entry, patient)
            key = patient_key(envelope.tenant, patient, at, envelope.id)
            await view.change(PATIENTS, key, envelope, lambda _: dict(doc))
