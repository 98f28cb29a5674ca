"""Engagement's due messages: one document per appointment message, pending (scheduled, failed
and waiting for its retry, or released and waiting for its channel's answer until its lease is
over) with the time it is due, or done. The delivery timer reads
what is due here, then decides on the appointment's stream in the event store: a document a
little behind sends nothing twice. Replay-safe: each event sets the document's state."""

from __future__ import annotations

from datetime import UTC, datetime

from services.engagement.domain.events import (
    MessageBounced,
    MessageCancelled,
    MessageGivenUp,
    MessageReleased,
    MessageRetried,
    MessageScheduled,
    MessageSent,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "engagement.deliveries"
DELIVERIES = "engagement_deliveries"

_Done = MessageSent | MessageCancelled | MessageGivenUp | MessageBounced


def utc_text(moment: datetime) -> str:
    """As the documents hold due times: UTC, to the second, with `Z`; sorts as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def delivery_id(tenant: str, message_id: str) -> str:
    return f"{tenant}:{message_id}"


class DeliveriesProjection:
    name = PROJECTION
    contexts = ("engagement",)
    collections = (DELIVERIES,)
    handles: tuple[type[DomainEvent], ...] = (
        MessageScheduled,
        MessageRetried,
        MessageReleased,
        MessageSent,
        MessageCancelled,
        MessageGivenUp,
        MessageBounced,
    )

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, MessageScheduled | MessageRetried | MessageReleased | _Done):
            return
        seen, tenant = event, envelope.tenant

        def change(doc: Document | None) -> Document | None:
            match seen:
                case MessageScheduled(appointment_id=str(appointment_id)):
                    return {
                        "tenant": tenant,
                        "message_id": seen.message_id,
                        "appointment_id": appointment_id,
                        "patient_id": seen.patient_id,
                        "site_id": seen.site_id,
                        "pending": True,
                        "due_at": utc_text(seen.send_at),
                    }
                case MessageRetried() if doc is not None:
                    doc.update(pending=True, due_at=utc_text(seen.retry_at))
                case MessageReleased() if doc is not None:
                    # Due again only if no answer comes by the end of its lease.
                    doc.update(pending=True, due_at=utc_text(seen.lease_until))
                case _ if doc is not None:
                    doc.update(pending=False)
            return doc

        doc_id = delivery_id(tenant, event.message_id)
        await view.change(DELIVERIES, doc_id, envelope, change)
