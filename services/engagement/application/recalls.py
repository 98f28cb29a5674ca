"""Recalls: a manager's rule per visit type (`PUT /engagement/recall-rules/{visit_type_id}`)
makes a completed visit of the type (scheduling's `VisitCompleted`, consumer group
`reactor.engagement.recalls`) open the patient's recall, due the rule's interval after the
visit's local date (`domain/recalls.py`, on `engagement-recall-<patient>`). The recall timer
(`engagement.recall_timer`) finds the open recalls due by today and not sent in the recalls
read model, and for each, decided on the event store: plans the recall message beside the
visit's other messages (`domain/recall_messages.py`: the consented channel, out of the site's
quiet hours; the delivery timer sends it, consent checked again as it fires), then records
`RecallSent` once (with no message for a patient who consents to no channel). A booking of the
patient's (scheduling's `AppointmentBooked`, the same consumer group) closes the recall: off
the site's recall list (`GET /engagement/recalls?site=`).
"""

from __future__ import annotations

from typing import Any

import structlog

from services.engagement.application.consent import Consents
from services.engagement.application.sites import Sites
from services.engagement.domain import streams
from services.engagement.domain.recall_messages import (
    PlanRecallMessage,
    recall_message,
    recall_message_id,
)
from services.engagement.domain.recall_rules import SetRecallRule, recall_rule
from services.engagement.domain.recalls import CloseRecall, OpenRecall, Recall, SendRecall, recall
from services.engagement.projections.recalls import PROJECTION, RECALLS
from services.scheduling.contracts import AppointmentBooked, VisitCompleted
from shared.commands import CommandHandler, Outcome
from shared.domain import DomainError
from shared.events import DomainEvent, Envelope, Metadata
from shared.readmodels import ReadModels, public
from shared.timers import Timer
from shared.usecases import UseCases

SYSTEM = "system:engagement"

log = structlog.get_logger(__name__)


class Recalls(UseCases):
    def __init__(
        self, handler: CommandHandler, consents: Consents, sites: Sites, read_models: ReadModels
    ) -> None:
        super().__init__(handler)
        self._consents = consents
        self._sites = sites
        self._read_models = read_models

    async def set_rule(
        self, meta: Metadata, visit_type_id: str, interval_months: int
    ) -> Outcome[int | None]:
        command = SetRecallRule(
            visit_type_id=visit_type_id,
            interval_months=interval_months,
            set_by=meta.actor,
            now=self.now(),
        )
        stream = streams.recall_rule(meta.tenant, visit_type_id)
        return await self.decide(stream, recall_rule, command, meta)

    async def after_visit(self, meta: Metadata, visit: VisitCompleted) -> None:
        """Open the patient's recall if the visit's type recurs (nothing otherwise, nothing
        new for a redelivery)."""
        rule = streams.recall_rule(meta.tenant, visit.visit_type_id)
        interval = await self.state(rule, recall_rule)
        if interval is None:
            return
        zone = (await self._sites.of(meta.tenant, visit.site_id)).zone
        command = OpenRecall(
            patient_id=visit.patient_id,
            site_id=visit.site_id,
            last_visit_on=visit.start.astimezone(zone).date(),
            interval_months=interval,
            visit_type_id=visit.visit_type_id,
            appointment_id=visit.appointment_id,
            visit_start=visit.start,
        )
        stream = streams.recall(meta.tenant, visit.patient_id)
        await self.decide(stream, recall, command, meta, subject=visit.patient_id)

    async def booked(self, meta: Metadata, booking: AppointmentBooked) -> None:
        command = CloseRecall(
            patient_id=booking.patient_id,
            appointment_id=booking.appointment_id,
            today=self.now().date(),
        )
        stream = streams.recall(meta.tenant, booking.patient_id)
        await self.decide(stream, recall, command, meta, subject=booking.patient_id)

    async def due(self, limit: int) -> list[dict[str, Any]]:
        """Open recalls due by today and not sent, of every tenant (the read model's)."""
        today = self.now().date().isoformat()
        where = {"status": "open", "sent": False, "due_on": {"$lte": today}}
        return await self._read_models.find(PROJECTION, RECALLS, where, limit=limit)

    async def send(self, meta: Metadata, patient_id: str) -> bool:
        """Plan the recall's message and record it sent, once; False when the recall is not
        open and unsent in the event store (the read model was behind)."""
        stream = streams.recall(meta.tenant, patient_id)
        state = await self.state(stream, recall)
        if not _sendable(state):
            return False
        opened = state.opened
        assert opened is not None
        message_id = None
        if opened.appointment_id is not None and opened.visit_start is not None:
            plan = PlanRecallMessage(
                appointment_id=opened.appointment_id,
                patient_id=patient_id,
                site_id=opened.site_id,
                visit_start=opened.visit_start,
                zone=(await self._sites.of(meta.tenant, opened.site_id)).zone,
                consent=await self._consents.of(meta.tenant, patient_id),
                now=self.now(),
            )
            appointment = streams.appointment(meta.tenant, opened.appointment_id)
            planned = await self.decide(appointment, recall_message, plan, meta, subject=patient_id)
            scheduled = planned.state.messages.get(
                recall_message_id(plan.appointment_id, plan.visit_start)
            )
            message_id = scheduled.message_id if scheduled is not None else None
        command = SendRecall(patient_id=patient_id, message_id=message_id, today=self.now().date())
        await self.decide(stream, recall, command, meta, subject=patient_id)
        return True

    async def listed(self, tenant: str, site_id: str) -> list[dict[str, Any]]:
        """The site's recall list: open recalls due by today, longest due first."""
        today = self.now().date().isoformat()
        where = {"tenant": tenant, "site_id": site_id, "status": "open", "due_on": {"$lte": today}}
        docs = await self._read_models.find(
            PROJECTION, RECALLS, where, sort=[("due_on", 1), ("patient_id", 1)]
        )
        rows = []
        for doc in docs:
            row = public(doc) or {}
            row.pop("tenant", None)
            rows.append(row)
        return rows


def _sendable(state: Recall) -> bool:
    return state.opened is not None and not state.closed and not state.sent


class RecallTimer(Timer):
    """Sends every recall due: from the recalls read model (rebuilt from the events, so it
    survives restarts); each is decided on the event store, so a recall goes once even when
    several processes fire it at once."""

    name = "engagement.recall_timer"

    def __init__(self, recalls: Recalls, every: float = 60.0, batch: int = 200) -> None:
        super().__init__(every)
        self._recalls = recalls
        self._batch = batch

    async def fire_due(self) -> int:
        sent = 0
        for doc in await self._recalls.due(self._batch):
            meta = Metadata(
                tenant=doc["tenant"],
                actor=SYSTEM,
                site=doc["site_id"],
                correlation_id=f"recall:{doc['patient_id']}:{doc['due_on']}",
            )
            try:
                sent += int(await self._recalls.send(meta, doc["patient_id"]))
            except DomainError as exc:
                log.info("recall_not_sent", patient=doc["patient_id"], reason=str(exc))
        return sent


class TrackRecalls:
    """Completed visits open recalls; bookings close them."""

    name = "engagement.recalls"
    contexts = ("scheduling",)

    def __init__(self, recalls: Recalls) -> None:
        self._recalls = recalls

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        meta = Metadata.reacting_to(envelope, SYSTEM)
        if isinstance(event, VisitCompleted):
            await self._recalls.after_visit(meta, event)
        elif isinstance(event, AppointmentBooked):
            await self._recalls.booked(meta, event)
