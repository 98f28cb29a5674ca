"""Engagement's privacy complaints become compliance's incidents: a feedback case of kind
`privacy_complaint` (engagement's `FeedbackCaseOpened`, consumer group
`reactor.compliance.privacy_complaints`) opens a privacy incident with compliance's own command,
once per case (`Incidents.open_for_case`). Compliance reads every context's events as they
arrived (`AsReceived`): this reaction decodes engagement's with engagement's registry."""

from __future__ import annotations

from services.compliance.application.incidents import Incidents
from services.engagement.contracts import CONTRACT as ENGAGEMENT
from services.engagement.contracts import FeedbackCaseOpened
from shared.events import DomainEvent, Envelope, Metadata

SYSTEM = "system:compliance"


class OpenPrivacyIncidents:
    name = "compliance.privacy_complaints"
    contexts = ("engagement",)

    def __init__(self, incidents: Incidents) -> None:
        self._incidents = incidents

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if envelope.type != FeedbackCaseOpened.type_name():
            return
        opened = ENGAGEMENT.registry.decode(envelope)
        if isinstance(opened, FeedbackCaseOpened) and opened.kind == "privacy_complaint":
            await self._incidents.open_for_case(Metadata.reacting_to(envelope, SYSTEM), opened)
