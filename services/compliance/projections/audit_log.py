"""The audit log: one entry per event of any context: who did what, when, to which stream.

Entries keep the event's metadata and a digest of its data. Events without PHI fields also keep
their data (who read which patient's record and why, for instance); events with PHI keep only
the digest of their sealed data, so the log holds no patient details yet proves what was said.
"""

from __future__ import annotations

from services.compliance.domain.ledger import data_digest
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.phi import PhiEvent
from shared.projections import View

PROJECTION = "compliance.audit_log"
ENTRIES = "audit_entries"
CONTEXTS = ("scheduling", "staffing", "billing", "compliance")


class AuditLogProjection:
    name = PROJECTION
    contexts = CONTEXTS
    collections = (ENTRIES,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        def record(_: Document | None) -> Document:
            entry: Document = {
                "tenant": envelope.tenant,
                "event_id": envelope.id,
                "type": envelope.type,
                "context": envelope.context,
                "stream": envelope.stream,
                "stream_version": envelope.stream_version,
                "subject": envelope.subject,
                "site": envelope.site,
                "actor": envelope.actor,
                "correlation_id": envelope.correlation_id,
                "time": envelope.time.isoformat(),
                "data_sha256": data_digest(envelope),
            }
            if not isinstance(event, PhiEvent):
                entry["data"] = envelope.data  # nothing sealed in it: auditors read it whole
            return entry

        await view.change(ENTRIES, f"{envelope.tenant}:{envelope.id}", envelope, record)
