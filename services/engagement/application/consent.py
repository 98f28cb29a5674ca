"""A patient's channel consent: opted in or out per channel, recorded at once on the patient's
consent stream and read from it (the event store), so an opt-out is honoured from the moment
it is recorded: every message's timer folds the same stream when it fires."""

from __future__ import annotations

from services.engagement.domain import streams
from services.engagement.domain.consent import Consent, OptIn, OptOut, consent
from services.engagement.domain.events import Channel, ConsentSource
from shared.commands import Outcome
from shared.events import Metadata
from shared.usecases import UseCases


class Consents(UseCases):
    async def opt_in(
        self, meta: Metadata, patient_id: str, channel: Channel, source: ConsentSource
    ) -> Outcome[Consent]:
        command = OptIn(patient_id=patient_id, channel=channel, source=source, now=self.now())
        stream = streams.consent(meta.tenant, patient_id)
        return await self.decide(stream, consent, command, meta, subject=patient_id)

    async def opt_out(
        self, meta: Metadata, patient_id: str, channel: Channel, source: ConsentSource
    ) -> Outcome[Consent]:
        command = OptOut(patient_id=patient_id, channel=channel, source=source, now=self.now())
        stream = streams.consent(meta.tenant, patient_id)
        return await self.decide(stream, consent, command, meta, subject=patient_id)

    async def of(self, tenant: str, patient_id: str) -> Consent:
        """The patient's consent as recorded now (folded from the event store)."""
        return await self.state(streams.consent(tenant, patient_id), consent)
