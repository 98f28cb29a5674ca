"""Revenue learnt from billing's events: each recognised once, on its own stream, however
often the bus delivers it (`domain/revenue.py`).

Billing's patient payments carry their site and day, and become self-pay revenue here. A
tenant that has set no cost centres keeps no books in finance: its payments are not learnt.
"""

from __future__ import annotations

from services.billing.contracts import PatientPaymentReceived
from services.finance.application.accounts import Accounts
from services.finance.domain import streams
from services.finance.domain.revenue import RecogniseRevenue, Recognition, revenue
from shared.commands import CommandHandler, Outcome
from shared.events import DomainEvent, Envelope, Metadata
from shared.usecases import UseCases

SYSTEM = "system:finance"


class Revenue(UseCases):
    def __init__(self, handler: CommandHandler, accounts: Accounts) -> None:
        super().__init__(handler)
        self._accounts = accounts

    async def patient_paid(
        self, meta: Metadata, event: PatientPaymentReceived, learnt_from: str
    ) -> Outcome[Recognition] | None:
        """None: the tenant keeps no books here (no cost centres set), so nothing is learnt."""
        chart = await self._accounts.chart(meta.tenant)
        if not chart.cost_centres:
            return None
        day = event.received_at.date()
        command = RecogniseRevenue(
            learnt_from=learnt_from,
            kind="patient_payment",
            payer_class="self_pay",
            site_id=event.site_id,
            amount_cents=event.amount_cents,
            date_of_service=day,
            posted_on=day,
            chart=chart,
            recognised_at=self.now(),
        )
        stream = streams.revenue(meta.tenant, learnt_from)
        return await self.decide(stream, revenue, command, meta)


class RecogniseBillingRevenue:
    """A patient's payment posted in billing is self-pay revenue of its site, once."""

    name = "finance.recognise_revenue"
    contexts = ("billing",)

    def __init__(self, revenue: Revenue) -> None:
        self._revenue = revenue

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, PatientPaymentReceived):
            meta = Metadata(
                tenant=envelope.tenant,
                actor=SYSTEM,
                site=envelope.site,
                correlation_id=envelope.correlation_id,
                causation_id=envelope.id,
                traceparent=envelope.traceparent,
            )
            await self._revenue.patient_paid(meta, event, envelope.id)
