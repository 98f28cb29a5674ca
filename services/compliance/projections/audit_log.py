"""The audit log: one entry per event of any context: who did what, when, to which stream.

Entries keep the event's metadata and a digest of its data. Events without PHI fields also keep
their data (who read which patient's record and why, for instance); events with PHI keep only
the digest of their sealed data, so the log holds no patient details yet proves what was said.

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
from shared.phi import PhiEvent
from shared.projections import View

PROJECTION = "compliance.audit_log"
ENTRIES = "audit_entries"
STREAMS = "audit_streams"  # per stream: the site its first event named
CONTEXTS = ("scheduling", "staffing", "billing", "compliance")


def named_site(envelope: Envelope) -> str | None:
    """The site an event names itself: its envelope's, else its data's `site_id`."""
    site: Any = envelope.site or envelope.data.get("site_id")
    return site if isinstance(site, str) and site else None


class AuditLogProjection:
    name = PROJECTION
    contexts = CONTEXTS
    collections = (ENTRIES, STREAMS)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
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
            if not isinstance(event, PhiEvent):
                entry["data"] = envelope.data  # nothing sealed in it: auditors read it whole
            return entry

        await view.change(ENTRIES, f"{envelope.tenant}:{envelope.id}", envelope, record)
