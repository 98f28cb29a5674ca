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
"""

from __future__ import annotations

from typing import Any

from services.compliance.domain.ledger import data_digest
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "compliance.audit_log"
ENTRIES = "audit_entries"
STREAMS = "audit_streams"  # per stream: the site its first event named
CONTEXTS = ("scheduling", "staffing", "billing", "compliance")


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


class AuditLogProjection:
    name = PROJECTION
    contexts = CONTEXTS
    collections = (ENTRIES, STREAMS)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        """`event` is not looked at (`shared.events.AsReceived` hands over any type)."""
        stream_id = f"{envelope.tenant}:{envelope.stream}"
        site = named_site(envelope)
        if envelope.stream_version == 1 and site is not None:

            def first(_: Document | None) -> Document:
                return {"tenant": envelope.tenant, "stream": envelope.stream, "site": site}

            await view.change(STREAMS, stream_id, envelope, first)
        elif site is None:
            stream = await view.get(STREAMS, stream_id)
            site = None if stream is None else stream.get("site")

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
                "time": envelope.time.isoformat(),
                "data_sha256": data_digest(envelope),
            }
            sealed = phi_fields(envelope)
            if sealed:
                entry["phi"] = list(sealed)  # which fields; their values stay out of the log
            else:
                entry["data"] = envelope.data  # nothing sealed in it: auditors read it whole
            return entry

        await view.change(ENTRIES, f"{envelope.tenant}:{envelope.id}", envelope, record)
