"""Revenue learnt from billing's events: each recognised once, on its own stream, however
often the bus delivers it (`domain/revenue.py`), decided from finance's event store: the facts
of billing's payers, charges, claims and patient payments it needs are finance's own events
(`application/learning.py`), folded here; one not learnt yet is waited for (retried).

- A patient's payment is self-pay revenue of its site, dated the day it was received.
- A payer's payment (an adjudication; taken back by its reversal) is revenue of its claim's
  site on the payer's class, by the claim's (earliest) date of service and the posting day.
- A patient's refund takes self-pay revenue back: of the refunded payment's site and day when
  it names one (`payment_id`); a refund of credit names none, and is the group's (no site).
- A PLB adjustment (`ProviderAdjustmentPosted`) is revenue of the payer's class (commercial
  when it names no payer), positive amounts reducing it. A PLB names the payee (an NPI or TIN
  a group's sites often share), not a site or a service: it is the group's, dated the day it
  was posted, and shows in the group's month, not in any one site's.
- A write-off (`ClaimWrittenOff`, `PatientBalanceWrittenOff`) is not cash: revenue here is
  what was collected, and a balance given up was never collected, so it reduces no revenue. It
  is recorded (kind "write_off", negative) on the account of its payer class and site (the
  claim's; the charge's when the patient's write-off names one, else the group's) so that the
  month report shows write-offs apart from revenue and cash collected.

Revenue is recorded whether or not cost centres are set: the default chart of accounts applies
on first use, and a site without a cost centre yet is still a site id (a clinic that sets its
cost centres in March sees January's payments).
"""

from __future__ import annotations

from datetime import date

from services.billing.contracts import (
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    ClaimWrittenOff,
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    ProviderAdjustmentPosted,
)
from services.finance.application.accounts import Accounts
from services.finance.application.learning import Learning, caused_by
from services.finance.domain import streams
from services.finance.domain.accounts import payer_class_of
from services.finance.domain.events import AccountCategory, ClaimLearnt, RevenueKind
from services.finance.domain.revenue import GROUP, RecogniseRevenue, Recognition, revenue
from shared.commands import CommandHandler, Outcome
from shared.errors import RetryLater
from shared.events import DomainEvent, Envelope, Metadata
from shared.usecases import UseCases


class Revenue(UseCases):
    def __init__(self, handler: CommandHandler, accounts: Accounts, learning: Learning) -> None:
        super().__init__(handler)
        self._accounts = accounts
        self._learning = learning

    async def _recognise(
        self,
        meta: Metadata,
        learnt_from: str,
        kind: RevenueKind,
        payer_class: AccountCategory,
        site_id: str,
        amount_cents: int,
        served: date,
        posted_on: date,
    ) -> Outcome[Recognition]:
        stream = streams.revenue(meta.tenant, learnt_from)
        command = RecogniseRevenue(
            learnt_from=learnt_from,
            kind=kind,
            payer_class=payer_class,
            site_id=site_id,
            amount_cents=amount_cents,
            date_of_service=served,
            posted_on=posted_on,
            chart=await self._accounts.in_use(meta),
            recognised_at=self.now(),
        )
        return await self.decide(stream, revenue, command, meta)

    async def _claim(self, tenant: str, claim_id: str) -> tuple[ClaimLearnt, AccountCategory, date]:
        """A claim as finance learnt it, its payer's class and its earliest date of service;
        any of them not learnt yet: retried later."""
        claim = await self._learning.claim(tenant, claim_id)
        payer = await self._learning.payer_class(tenant, claim.payer_id)
        days = [(await self._learning.charge(tenant, c)).date_of_service for c in claim.charge_ids]
        if not days:
            raise RetryLater(f"the charges of claim {claim_id} are not learnt yet")
        return claim, payer.payer_class, min(days)

    async def payer_paid(
        self,
        meta: Metadata,
        event: ClaimAdjudicated | ClaimAdjudicationReversed,
        learnt_from: str,
    ) -> Outcome[Recognition]:
        """A payer's payment on a claim (or its reversal): revenue of the claim's site, on the
        account of the payer's class, by date of service and posting date."""
        claim, payer_class, served = await self._claim(meta.tenant, event.claim_id)
        kind: RevenueKind
        if isinstance(event, ClaimAdjudicated):
            kind, cents, posted_on = "payer_payment", event.paid_cents, event.adjudicated_on
        else:
            kind, cents, posted_on = "reversal", event.paid_cents, event.reversed_on
        return await self._recognise(
            meta, learnt_from, kind, payer_class, claim.site_id, cents, served, posted_on
        )

    async def patient_paid(
        self, meta: Metadata, event: PatientPaymentReceived, learnt_from: str
    ) -> Outcome[Recognition]:
        day = event.received_at.date()
        return await self._recognise(
            meta, learnt_from, "patient_payment", "self_pay", event.site_id,
            event.amount_cents, day, day,
        )  # fmt: skip

    async def refunded(
        self, meta: Metadata, event: PatientRefunded, learnt_from: str
    ) -> Outcome[Recognition]:
        """Self-pay taken back: of the refunded payment's site and day, or the group's."""
        posted_on = event.refunded_at.date()
        site_id, served = GROUP, posted_on
        if event.payment_id is not None:
            payment = await self._learning.payment(meta.tenant, event.payment_id)
            site_id, served = payment.site_id, payment.received_on
        return await self._recognise(
            meta, learnt_from, "refund", "self_pay", site_id, event.amount_cents, served, posted_on
        )

    async def provider_adjusted(
        self, meta: Metadata, event: ProviderAdjustmentPosted, learnt_from: str
    ) -> Outcome[Recognition]:
        """A PLB adjustment: the group's, on the payer's class; positive amounts reduce."""
        payer_class = payer_class_of(None)
        if event.payer_id is not None:
            payer = await self._learning.payer_class(meta.tenant, event.payer_id)
            payer_class = payer.payer_class
        day = event.posted_at.date()
        return await self._recognise(
            meta, learnt_from, "adjustment", payer_class, GROUP, -event.amount_cents, day, day
        )

    async def claim_written_off(
        self, meta: Metadata, event: ClaimWrittenOff, learnt_from: str
    ) -> Outcome[Recognition]:
        claim, payer_class, served = await self._claim(meta.tenant, event.claim_id)
        return await self._recognise(
            meta, learnt_from, "write_off", payer_class, claim.site_id, event.amount_cents,
            served, event.written_off_at.date(),
        )  # fmt: skip

    async def balance_written_off(
        self, meta: Metadata, event: PatientBalanceWrittenOff, learnt_from: str
    ) -> Outcome[Recognition]:
        """A patient's balance given up: the charge's site and day when it names one."""
        posted_on = event.written_off_at.date()
        site_id, served = GROUP, posted_on
        if event.charge_id is not None:
            charge = await self._learning.charge(meta.tenant, event.charge_id)
            site_id, served = charge.site_id, charge.date_of_service
        return await self._recognise(
            meta, learnt_from, "write_off", "self_pay", site_id, event.amount_cents,
            served, posted_on,
        )  # fmt: skip


class RecogniseBillingRevenue:
    """Every billing event that moves money (payments, reversals, refunds, PLB adjustments)
    or gives a balance up (write-offs), recognised once."""

    name = "finance.recognise_revenue"
    contexts = ("billing",)

    def __init__(self, revenue: Revenue) -> None:
        self._revenue = revenue

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        meta, learnt_from = caused_by(envelope), envelope.id
        match event:
            case PatientPaymentReceived():
                await self._revenue.patient_paid(meta, event, learnt_from)
            case ClaimAdjudicated() | ClaimAdjudicationReversed():
                await self._revenue.payer_paid(meta, event, learnt_from)
            case PatientRefunded():
                await self._revenue.refunded(meta, event, learnt_from)
            case ProviderAdjustmentPosted():
                await self._revenue.provider_adjusted(meta, event, learnt_from)
            case ClaimWrittenOff():
                await self._revenue.claim_written_off(meta, event, learnt_from)
            case PatientBalanceWrittenOff():
                await self._revenue.balance_written_off(meta, event, learnt_from)
