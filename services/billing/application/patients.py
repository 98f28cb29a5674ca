"""The patient's side: responsibility assessed onto the patient's ledger, payments, refunds,
write-offs and payment plans (`domain/patient_ledger.py` decides).

`AssessPatients` (consumer group `reactor.billing.assess_patients`) assesses, once per source
event (`learnt_from`):
- a `ClaimAdjudicated` of the LAST payer of a visit: its patient responsibility, split by the PR
  adjustments' reasons (CARC 1 deductible, 2 coinsurance, 3 copay, 96/204 not_covered, else
  other; none given: other). A claim whose patient has a further coverage assesses nothing:
  the next payer's adjudication does;
- a `ClaimAdjudicationReversed`: the negative of what the reversed adjudication assessed;
- a released self-pay charge (`payer_id == SELF_PAY`): its total, as `self_pay` (what a
  corrected and released again charge changed, only the difference);
- a `ChargeCorrected` that moves a self-pay charge to a payer: the negative of its self-pay.
Charge and claim facts are read from the event store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from services.billing.application.charges import SYSTEM, caused_by
from services.billing.domain import (
    accounts,
    billing_providers,
    patient_ledger,
    statement_pdf,
    streams,
)
from services.billing.domain.claims import ChargeFacts, ClaimState, claim, evolve_charge
from services.billing.domain.events import (
    SELF_PAY,
    ChargeCorrected,
    ChargeCreated,
    ChargeReleased,
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    StatementIssued,
)
from services.billing.domain.patient_ledger import (
    AdvanceCollection,
    AgreePlan,
    Assess,
    AssessAll,
    EndPlan,
    IssueStatement,
    Ledger,
    ReceivePayment,
    Refund,
    WriteOff,
)
from services.billing.projections import patients as view
from shared.commands import CommandHandler, Outcome
from shared.domain import Decider, NotFound, Rejected
from shared.events import DomainEvent, Envelope, Metadata
from shared.phivault import REDACTED, PhiVault
from shared.readmodels import ReadModels
from shared.timers import Timer
from shared.usecases import UseCases

DUE_DAYS = 30  # a statement is due this many days after its period ends

PR_REASONS: dict[str, patient_ledger.Reason] = {
    "1": "deductible",
    "2": "coinsurance",
    "3": "copay",
    "96": "not_covered",
    "204": "not_covered",
}


def _nothing(_: object, __: object) -> Sequence[DomainEvent]:
    return []


@dataclass(frozen=True)
class ChargePayer:
    """A charge as the patient's side needs it: its facts and whose it is (a correction may
    move it from self-pay to a payer)."""

    facts: ChargeFacts = ChargeFacts()
    payer_id: str | None = None


def _evolve_charge_payer(state: ChargePayer, event: DomainEvent) -> ChargePayer:
    facts = evolve_charge(state.facts, event)
    payer_id = state.payer_id
    if isinstance(event, ChargeCreated):
        payer_id = event.payer_id
    elif isinstance(event, ChargeCorrected) and event.payer_id is not None:
        payer_id = event.payer_id
    return replace(state, facts=facts, payer_id=payer_id)


charge_payer = Decider[ChargePayer, None](ChargePayer(), _evolve_charge_payer, _nothing)
account = Decider[accounts.PatientAccount, None](
    accounts.PatientAccount(), accounts.evolve, _nothing
)


def split(event: ClaimAdjudicated) -> list[tuple[patient_ledger.Reason, int]]:
    """The patient responsibility by reason, from the PR adjustments (claim and lines); what
    they do not explain of the stated total is `other`."""
    by: dict[patient_ledger.Reason, int] = {}
    adjustments = [*event.adjustments, *(a for line in event.lines for a in line.adjustments)]
    for adjustment in adjustments:
        if adjustment.group == "PR":
            reason = PR_REASONS.get(adjustment.reason, "other")
            by[reason] = by.get(reason, 0) + adjustment.amount_cents
    rest = event.patient_responsibility_cents - sum(by.values())
    if rest > 0:  # more owed than the adjustments explain (never less: the CAS are the detail)
        by["other"] = by.get("other", 0) + rest
    return [(reason, cents) for reason, cents in by.items() if cents]


class Patients(UseCases):
    def __init__(
        self, handler: CommandHandler, read_models: ReadModels, small_balance_limit_cents: int
    ) -> None:
        super().__init__(handler)
        self._read_models = read_models
        self._small_balance = small_balance_limit_cents

    async def tenants(self) -> list[str]:
        """The tenants with a patient ledger, from the read model (the statement run's round)."""
        tenants: list[str] = []
        while True:
            where: dict[str, Any] = {}
            if tenants:
                where["tenant"] = {"$gt": tenants[-1]}
            found = await self._read_models.find(
                view.PROJECTION, view.BALANCES, where, sort=[("tenant", 1)], limit=1
            )
            if not found:
                return tenants
            tenants.append(str(found[0]["tenant"]))

    async def ledger(self, tenant: str, patient_id: str) -> Ledger:
        return await self.state(streams.patient_ledger(tenant, patient_id), patient_ledger.ledger)

    async def ledgers(self, tenant: str) -> list[str]:
        """The patients with a ledger (from the event store's streams)."""
        prefix = streams.patient_ledger(tenant, "")
        found = await self._handler.store.streams_tagged(streams.patient_ledgers_tag(tenant))
        return sorted(s[len(prefix) :] for s in found if s.startswith(prefix))

    async def decide_on(
        self, meta: Metadata, patient_id: str, command: patient_ledger.LedgerCommand
    ) -> Outcome[Ledger]:
        return await self._decide(meta, patient_id, command)

    async def _known(self, tenant: str, patient_id: str) -> None:
        """404 for a patient billing never learnt and owes nothing (another tenant's, a typo)."""
        if (await self.ledger(tenant, patient_id)).patient_id is not None:
            return
        learnt = await self.state(streams.patient_account(tenant, patient_id), account)
        if learnt.demographics is None:
            raise NotFound(f"patient {patient_id} not found")

    async def _decide(
        self, meta: Metadata, patient_id: str, command: patient_ledger.LedgerCommand
    ) -> Outcome[Ledger]:
        if not isinstance(command, Assess | AssessAll):
            await self._known(meta.tenant, patient_id)
        stream = streams.patient_ledger(meta.tenant, patient_id)
        return await self.decide(stream, patient_ledger.ledger, command, meta, subject=patient_id)

    # ------------------------------------------------------------------------- reactions

    async def _last_payer_claim(self, tenant: str, claim_id: str) -> ClaimState | None:
        """The claim, if its payer is the visit's last (no further coverage follows it)."""
        state = await self.state(streams.claim(tenant, claim_id), claim)
        created = state.created
        if created is None:
            raise NotFound(f"claim {claim_id} not found")
        patient = await self.state(streams.patient_account(tenant, created.patient_id), account)
        further = patient.coverage(created.priority + 1)
        if further is not None and further.payer_id != SELF_PAY:
            return None
        return state

    async def _charge(self, tenant: str, charge_id: str) -> ChargePayer:
        state = await self.state(streams.charge(tenant, charge_id), charge_payer)
        if state.facts.created is None:
            raise NotFound(f"charge {charge_id} not found")
        return state

    async def assess_adjudication(
        self, meta: Metadata, event: ClaimAdjudicated, event_id: str
    ) -> Outcome[Ledger] | None:
        state = await self._last_payer_claim(meta.tenant, event.claim_id)
        if state is None or state.created is None:
            return None
        created = state.created
        charge = (await self._charge(meta.tenant, created.charge_ids[0])).facts.created
        assert charge is not None
        source = event.posting_id or event_id
        command = AssessAll(
            tuple(
                self._assess(
                    charge,
                    created.claim_id,
                    f"{created.claim_id}:{source}:{reason}",
                    cents,
                    reason,
                    f"{event_id}:{reason}",
                )
                for reason, cents in split(event)
            )
        )
        return await self._decide(meta, created.patient_id, command)

    async def assess_reversal(
        self, meta: Metadata, event: ClaimAdjudicationReversed, event_id: str
    ) -> Outcome[Ledger] | None:
        state = await self.state(streams.claim(meta.tenant, event.claim_id), claim)
        created = state.created
        if created is None:
            raise NotFound(f"claim {event.claim_id} not found")
        ledger = await self.ledger(meta.tenant, created.patient_id)
        undone = ledger.entries_of(f"{created.claim_id}:{event.reverses}:")
        if not undone:
            return None
        charge = (await self._charge(meta.tenant, created.charge_ids[0])).facts.created
        assert charge is not None
        command = AssessAll(
            tuple(
                self._assess(
                    charge,
                    created.claim_id,
                    f"{created.claim_id}:{event.posting_id}:{e.reason}",
                    -e.amount_cents,
                    e.reason,
                    f"{event_id}:{e.reason}",
                )
                for e in undone
            )
        )
        return await self._decide(meta, created.patient_id, command)

    async def assess_self_pay(
        self, meta: Metadata, charge_id: str, event_id: str
    ) -> Outcome[Ledger] | None:
        """A released self-pay charge owes its total; a charge moved to a payer, nothing."""
        charge = await self._charge(meta.tenant, charge_id)
        created = charge.facts.created
        assert created is not None
        ledger = await self.ledger(meta.tenant, created.patient_id)
        already = ledger.assessed(charge_id, "self_pay")
        if charge.payer_id == SELF_PAY:
            if not charge.facts.released:
                return None
            owed = charge.facts.total_cents
        else:
            owed = 0
        if owed == already:
            return None
        command = self._assess(
            created, None, f"{charge_id}:{event_id}", owed - already, "self_pay", event_id
        )
        return await self._decide(meta, created.patient_id, command)

    def _assess(
        self,
        charge: ChargeCreated,
        claim_id: str | None,
        entry_id: str,
        cents: int,
        reason: patient_ledger.Reason,
        learnt_from: str,
    ) -> Assess:
        return Assess(
            patient_id=charge.patient_id,
            entry_id=entry_id,
            charge_id=charge.charge_id,
            claim_id=claim_id,
            site_id=charge.site_id,
            provider_id=charge.provider_id,
            date_of_service=charge.date_of_service,
            amount_cents=cents,
            reason=reason,
            learnt_from=learnt_from,
            assessed_at=self.now(),
        )

    # ------------------------------------------------------------------------- commands

    async def receive_payment(
        self,
        meta: Metadata,
        patient_id: str,
        *,
        payment_id: str,
        amount_cents: int,
        method: patient_ledger.PaymentMethod,
        site_id: str,
        reference: str = "",
        kind: patient_ledger.Kind = "payment",
        appointment_id: str | None = None,
        charge_id: str | None = None,
    ) -> Outcome[Ledger]:
        command = ReceivePayment(
            patient_id=patient_id,
            payment_id=payment_id,
            amount_cents=amount_cents,
            method=method,
            site_id=site_id,
            received_by=meta.actor or SYSTEM,
            received_at=self.now(),
            reference=reference,
            kind=kind,
            appointment_id=appointment_id,
            charge_id=charge_id or appointment_id,
        )
        return await self._decide(meta, patient_id, command)

    async def refund(
        self,
        meta: Metadata,
        patient_id: str,
        *,
        amount_cents: int,
        method: patient_ledger.PaymentMethod,
        reason: str,
        reference: str = "",
        payment_id: str | None = None,
        refund_id: str | None = None,
    ) -> Outcome[Ledger]:
        command = Refund(
            patient_id=patient_id,
            refund_id=refund_id or self.new_id(),
            amount_cents=amount_cents,
            method=method,
            reason=reason,
            refunded_by=meta.actor or SYSTEM,
            refunded_at=self.now(),
            reference=reference,
            payment_id=payment_id,
        )
        return await self._decide(meta, patient_id, command)

    async def write_off(
        self,
        meta: Metadata,
        patient_id: str,
        *,
        amount_cents: int,
        reason: patient_ledger.WriteOffReason,
        note: str = "",
        charge_id: str | None = None,
        write_off_id: str | None = None,
    ) -> Outcome[Ledger]:
        command = WriteOff(
            patient_id=patient_id,
            write_off_id=write_off_id or self.new_id(),
            amount_cents=amount_cents,
            reason=reason,
            small_balance_limit_cents=self._small_balance,
            written_off_by=meta.actor or SYSTEM,
            written_off_at=self.now(),
            note=note,
            charge_id=charge_id,
        )
        return await self._decide(meta, patient_id, command)

    async def agree_plan(
        self,
        meta: Metadata,
        patient_id: str,
        *,
        total_cents: int,
        installment_cents: int,
        first_due_on: date,
        plan_id: str | None = None,
    ) -> Outcome[Ledger]:
        command = AgreePlan(
            patient_id=patient_id,
            plan_id=plan_id or self.new_id(),
            total_cents=total_cents,
            installment_cents=installment_cents,
            first_due_on=first_due_on,
            agreed_by=meta.actor or SYSTEM,
            agreed_at=self.now(),
        )
        return await self._decide(meta, patient_id, command)

    async def end_plan(
        self,
        meta: Metadata,
        patient_id: str,
        plan_id: str,
        outcome: patient_ledger.PlanOutcome,
    ) -> Outcome[Ledger]:
        command = EndPlan(patient_id, plan_id, outcome, self.now())
        return await self._decide(meta, patient_id, command)


class StatementNotAvailable(NotFound):
    """No such statement, or its patient was forgotten (no PHI to write it with)."""


class Statements:
    """Monthly statements: issued from the ledger (the PDF's digest recorded), written again
    byte for byte from the ledger's entries up to `as_of`. PHI (name, address) is opened
    through the vault only to write the PDF; a forgotten patient gets no statement. The
    monthly run also ends payment plans paid in full or not kept (an installment more than
    `plan_overdue_days` overdue)."""

    def __init__(self, patients: Patients, vault: PhiVault, plan_overdue_days: int) -> None:
        self._patients = patients
        self._vault = vault
        self._plan_overdue_days = plan_overdue_days

    @property
    def patients(self) -> Patients:
        return self._patients

    async def _pdf(
        self, tenant: str, ledger: Ledger, period_end: date, due_on: date, upto: int
    ) -> bytes | None:
        """The PDF of the ledger's first `upto` entries; None for a forgotten patient."""
        assert ledger.patient_id is not None
        patients = self._patients
        account_state = await patients.state(
            streams.patient_account(tenant, ledger.patient_id), account
        )
        demographics = account_state.demographics
        if account_state.forgotten or demographics is None:
            return None
        name = await self._vault.reveal(tenant, demographics.name)
        address = await self._vault.reveal(tenant, demographics.address)
        if REDACTED in (name, address):
            return None
        practice = ""
        if ledger.site_ids:
            site = await patients.state(
                streams.billing_provider(tenant, ledger.site_ids[0]),
                billing_providers.billing_provider,
            )
            practice = site.current.name if site.current is not None else ""
        lines = statement_pdf.statement_lines(
            practice=practice,
            name=name,
            address=address,
            period_end=period_end,
            due_on=due_on,
            entries=ledger.entries[:upto],
        )
        return statement_pdf.write_pdf(lines)

    async def issue(
        self, meta: Metadata, patient_id: str, period_end: date, statement_id: str | None = None
    ) -> Outcome[Ledger]:
        patients = self._patients
        ledger = await patients.ledger(meta.tenant, patient_id)
        if ledger.patient_id is None:
            raise NotFound(f"patient {patient_id} has no ledger")
        due_on = period_end + timedelta(days=DUE_DAYS)
        pdf = await self._pdf(meta.tenant, ledger, period_end, due_on, len(ledger.entries))
        if pdf is None:
            raise Rejected(f"patient {patient_id} was forgotten: no statement")
        now = patients.now()
        command = IssueStatement(
            patient_id=patient_id,
            statement_id=statement_id or patients.new_id(),
            period_end=period_end,
            as_of=now,
            due_on=due_on,
            digest=statement_pdf.digest(pdf),
            issued_at=now,
        )
        return await patients.decide_on(meta, patient_id, command)

    async def pdf(self, tenant: str, patient_id: str, statement_id: str) -> bytes:
        """The statement written again from the ledger's entries before it (checked)."""
        ledger = await self._patients.ledger(tenant, patient_id)
        for upto, entry in enumerate(ledger.entries):
            if isinstance(entry, StatementIssued) and entry.statement_id == statement_id:
                pdf = await self._pdf(tenant, ledger, entry.period_end, entry.due_on, upto)
                if pdf is None:
                    raise StatementNotAvailable(f"statement {statement_id} is not available")
                if statement_pdf.digest(pdf) != entry.digest:
                    raise RuntimeError(f"statement {statement_id} does not write again")
                return pdf
        raise StatementNotAvailable(f"statement {statement_id} not found")

    async def run(self, meta: Metadata, today: date) -> int:
        """The monthly run: every patient with a balance and no statement for the month just
        ended gets one; every ledger's open plan ends if paid in full or not kept, and its
        collection stage moves to where today puts it."""
        period_end = today.replace(day=1) - timedelta(days=1)
        issued = 0
        for patient_id in await self._patients.ledgers(meta.tenant):
            ledger = await self._patients.ledger(meta.tenant, patient_id)
            if ledger.balance_cents > 0 and not any(
                s.period_end >= period_end for s in ledger.statements
            ):
                sid = f"{patient_id}:{period_end.isoformat()}"
                with contextlib.suppress(Rejected):
                    await self.issue(meta, patient_id, period_end, statement_id=sid)
                    issued += 1
            advance = AdvanceCollection(
                patient_id, today, self._patients.now(), self._plan_overdue_days
            )
            await self._patients.decide_on(meta, patient_id, advance)
        return issued


class StatementRun(Timer):
    """The monthly statement run (each round: a patient gets one statement a month) and the
    collection stages moved on; a durable timer, so a missed round is caught up by the next."""

    name = "billing.statements"

    def __init__(self, statements: Statements, every: float) -> None:
        super().__init__(every)
        self._statements = statements

    async def fire_due(self) -> int:
        patients = self._statements.patients
        done = 0
        for tenant in await patients.tenants():
            meta = Metadata(tenant=tenant, actor=SYSTEM, correlation_id=patients.new_id())
            done += await self._statements.run(meta, patients.now().date())
        return done


class AssessPatients:
    """What patients owe, from adjudications, their reversals and self-pay charges: once per
    source event (a redelivery assesses nothing new)."""

    name = "billing.assess_patients"
    contexts = ("billing",)

    def __init__(self, patients: Patients) -> None:
        self._patients = patients

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        meta = caused_by(envelope)
        with contextlib.suppress(NotFound):
            match event:
                case ClaimAdjudicated():
                    await self._patients.assess_adjudication(meta, event, envelope.id)
                case ClaimAdjudicationReversed():
                    await self._patients.assess_reversal(meta, event, envelope.id)
                case ChargeReleased():
                    await self._patients.assess_self_pay(meta, event.charge_id, envelope.id)
                case ChargeCorrected() if event.payer_id is not None:
                    await self._patients.assess_self_pay(meta, event.charge_id, envelope.id)
