"""Revenue learnt from billing's events: each recognised once, on its own stream, however
often the bus delivers it (`domain/revenue.py`).

Billing's patient payments carry their site and day, and become self-pay revenue here; a
payer's payment (an adjudication) is revenue of its claim's site and payer class, dated by the
claim's date of service and the posting day, from the claim's facts finance's read model
learnt from billing's events (retried until it has them). A
tenant that has set no cost centres keeps no books in finance: its payments are not learnt.
"""

from __future__ import annotations

from datetime import date

from services.billing.contracts import (
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    PatientPaymentReceived,
)
from services.finance.application.accounts import Accounts
from services.finance.domain import streams
from services.finance.domain.accounts import payer_class_of
from services.finance.domain.events import RevenueKind
from services.finance.domain.revenue import RecogniseRevenue, Recognition, revenue
from services.finance.projections.ledger import CHARGES, CLAIMS, PAYERS, PROJECTION
from shared.commands import CommandHandler, Outcome
from shared.errors import RetryLater
from shared.events import DomainEvent, Envelope, Metadata
from shared.readmodels import ReadModels
from shared.usecases import UseCases

SYSTEM = "system:finance"


class Revenue(UseCases):
    def __init__(
        self, handler: CommandHandler, accounts: Accounts, read_models: ReadModels
    ) -> None:
        super().__init__(handler)
        self._accounts = accounts
        self._read_models = read_models

    async def _claim(self, tenant: str, claim_id: str) -> tuple[str, str, date]:
        """A claim's site, payer filing indicator and (earliest) date of service, as finance's
        read model learnt them from billing; not learnt yet: retried later."""
        found = await self._read_models.get(PROJECTION, CLAIMS, f"{tenant}:{claim_id}")
        if found is None:
            raise RetryLater(f"claim {claim_id} is not learnt yet")
        payer = await self._read_models.get(PROJECTION, PAYERS, f"{tenant}:{found['payer_id']}")
        days = []
        for charge_id in found["charge_ids"]:
            charge = await self._read_models.get(PROJECTION, CHARGES, f"{tenant}:{charge_id}")
            if charge is None:
                raise RetryLater(f"charge {charge_id} of claim {claim_id} is not learnt yet")
            days.append(date.fromisoformat(charge["date_of_service"]))
        if payer is None or not days:
            raise RetryLater(f"the payer or charges of claim {claim_id} are not learnt yet")
        return found["site_id"], payer["claim_filing_indicator"], min(days)

    async def payer_paid(
        self,
        meta: Metadata,
        event: ClaimAdjudicated | ClaimAdjudicationReversed,
        learnt_from: str,
    ) -> Outcome[Recognition] | None:
        """A payer's payment on a claim (or its reversal): revenue of the claim's site, on the
        account of the payer's class, by date of service and posting date. None: the tenant
        keeps no books here."""
        chart = await self._accounts.chart(meta.tenant)
        if not chart.cost_centres:
            return None
        site_id, indicator, served = await self._claim(meta.tenant, event.claim_id)
        kind: RevenueKind
        if isinstance(event, ClaimAdjudicated):
            kind, cents, posted_on = "payer_payment", event.paid_cents, event.adjudicated_on
        else:
            kind, cents, posted_on = "reversal", event.paid_cents, event.reversed_on
        command = RecogniseRevenue(
            learnt_from=learnt_from,
            kind=kind,
            payer_class=payer_class_of(indicator),
            site_id=site_id,
            amount_cents=cents,
            date_of_service=served,
            posted_on=posted_on,
            chart=chart,
            recognised_at=self.now(),
        )
        stream = streams.revenue(meta.tenant, learnt_from)
        return await self.decide(stream, revenue, command, meta)

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
    """A patient's payment posted in billing is self-pay revenue of its site, and a payer's
    (an adjudication; taken back by its reversal) revenue of the claim's site on its payer
    class: each once."""

    name = "finance.recognise_revenue"
    contexts = ("billing",)

    def __init__(self, revenue: Revenue) -> None:
        self._revenue = revenue

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        meta = Metadata(
            tenant=envelope.tenant,
            actor=SYSTEM,
            site=envelope.site,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.id,
            traceparent=envelope.traceparent,
        )
        if isinstance(event, PatientPaymentReceived):
            await self._revenue.patient_paid(meta, event, envelope.id)
        elif isinstance(event, ClaimAdjudicated | ClaimAdjudicationReversed):
            await self._revenue.payer_paid(meta, event, envelope.id)
