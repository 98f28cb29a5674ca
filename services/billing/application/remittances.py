"""Remittances: 835 files taken in (uploaded, or from the clearinghouse) and posted, each
payment exactly once.

Taking in (`receive`). The file is read and checked whole (`read_835`: envelope, counts, the
balance of the payment against its claims and provider adjustments, each claim's and line's
own balance); a file that fails is refused whole with the reason, nothing recorded. Each
payment (transaction) in it then, in order:
1. its provider-level adjustments (PLB) are posted to the provider accounts they name, each
   once (`ProviderAccounts`);
2. it is recorded on its remittance stream, its id from the payer and trace number: a payment
   taken before adds only the claims it did not hold (`domain/remittances.py`).
A crash between the two leaves the adjustments posted and the payment unrecorded: taking the
file again (the clearinghouse does; an uploader retries) posts no adjustment twice.

Posting (`post`, run by the `PostRemittances` reaction on the remittance's events, at least
once, and by the `ResumePostings` timer for any left pending). Every claim payment of the
remittance is posted on its claim's stream under its posting id (the remittance and its
position), reversals first (a payer lists a reversal and its correction under one number);
a payment that matches no claim of ours, or one in no state to take it, is queued unmatched
with its reason. Then `RemittancePosted` with the counts. Run again after a crash, each step
records nothing new: the claims posted before count as posted, nothing is posted twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import structlog

from services.billing.application.claims import Claims, caused_by
from services.billing.application.provider_accounts import ProviderAccounts
from services.billing.domain import remittances, streams
from services.billing.domain.claims import REVERSAL, Unpostable
from services.billing.domain.events import (
    LineAdjudication,
    RemittanceClaimsReceived,
    RemittanceReceived,
    RemittedClaim,
    remittance_id_for,
)
from services.billing.domain.remittances import (
    Receive,
    RecordMatched,
    RecordPosted,
    RecordUnmatched,
    RemittanceState,
    check_waiting,
    posting_id_for,
)
from services.billing.domain.x12.reader835 import RemittanceFile, read_835
from services.billing.domain.x12.remittance import Remittance, RemittanceClaim
from services.billing.projections import payments as view
from services.billing.projections import reference
from shared.commands import CommandHandler
from shared.domain import NotFound, Rejected
from shared.events import DomainEvent, Envelope, Metadata
from shared.readmodels import ReadModels
from shared.timers import Timer
from shared.usecases import UseCases

log = structlog.get_logger(__name__)

SYSTEM = "system:billing.remittances"
Source = Literal["clearinghouse", "upload"]


@dataclass(frozen=True)
class Receipt:
    """What taking one payment of a file did."""

    remittance_id: str
    new: bool  # the payment was not known before
    claims_added: int  # claims it did not hold (all of them when new)
    claim_count: int  # the claims in this file's payment
    stream_version: int


def remitted(claim: RemittanceClaim) -> RemittedClaim:
    """A CLP loop as posting needs it (lines by their REF*6R; "" when not echoed)."""
    return RemittedClaim(
        claim_ref=claim.claim_ref,
        status_code=claim.status_code,
        charge_cents=claim.charge_cents,
        paid_cents=claim.paid_cents,
        patient_responsibility_cents=claim.patient_responsibility_cents,
        payer_claim_control_number=claim.payer_claim_control_number,
        adjustments=claim.adjustments,
        remarks=claim.remarks,
        lines=tuple(
            LineAdjudication(
                line_id=line.line_item_control_number or "",
                code=line.code,
                paid_cents=line.paid_cents,
                adjustments=line.adjustments,
                remarks=line.remarks,
            )
            for line in claim.lines
        ),
    )


class Remittances(UseCases):
    def __init__(
        self,
        handler: CommandHandler,
        read_models: ReadModels,
        claims: Claims,
        provider_accounts: ProviderAccounts,
    ) -> None:
        super().__init__(handler)
        self._read_models = read_models
        self._claims = claims
        self._provider_accounts = provider_accounts

    # ------------------------------------------------------------------------- taking in

    async def receive(
        self, meta: Metadata, data: bytes, file_name: str, source: Source
    ) -> list[Receipt]:
        """Take a file's payments in (`RemittanceRefused`, a ValueError, for a file refused)."""
        return await self.receive_file(meta, read_835(data), file_name, source)

    async def receive_file(
        self, meta: Metadata, file: RemittanceFile, file_name: str, source: Source
    ) -> list[Receipt]:
        """Take a file's payments in, read and checked already."""
        return [await self._receive(meta, p, file, file_name, source) for p in file.remittances]

    async def _receive(
        self,
        meta: Metadata,
        payment: Remittance,
        file: RemittanceFile,
        file_name: str,
        source: Source,
    ) -> Receipt:
        rid = remittance_id_for(payment.x12_payer_id, payment.trace_number)
        payer_id = await self._payer_of(meta.tenant, payment.x12_payer_id)
        await self._provider_accounts.post_adjustments(
            meta, rid, payer_id, payment.provider_adjustments
        )
        payment_cents = (
            -payment.payment_cents if payment.credit_debit == "D" else (payment.payment_cents)
        )
        received = RemittanceReceived(
            remittance_id=rid,
            digest=file.digest,
            file_name=file_name,
            source=source,
            payer_id=payer_id,
            x12_payer_id=payment.x12_payer_id,
            payer_name=payment.payer_name,
            trace_number=payment.trace_number,
            handling_code=payment.handling_code,
            payment_method=payment.payment_method,
            payment_cents=payment_cents,
            paid_on=payment.paid_on,
            payee_npi=payment.payee_npi,
            claim_count=len(payment.claims),
            warnings=file.warnings,
            received_at=self.now(),
            provider_adjustments=len(payment.provider_adjustments),
        )
        claims = tuple(remitted(c) for c in payment.claims)
        outcome = await self.decide(
            streams.remittance(meta.tenant, rid),
            remittances.remittance,
            Receive(received, claims),
            meta,
            subject=rid,
        )
        added = sum(
            len(e.claims) for e in outcome.events if isinstance(e, RemittanceClaimsReceived)
        )
        new = any(isinstance(e, RemittanceReceived) for e in outcome.events)
        return Receipt(rid, new, added, len(claims), outcome.stream_version)

    async def _payer_of(self, tenant: str, x12_payer_id: str) -> str | None:
        """The group's payer with this X12 payer id (None: not defined, or more than one)."""
        docs = await self._read_models.find(
            reference.PAYERS_PROJECTION,
            reference.PAYERS,
            {"tenant": tenant, "x12_payer_id": x12_payer_id},
            limit=2,
        )
        return str(docs[0]["payer_id"]) if len(docs) == 1 else None

    # ------------------------------------------------------------------------- posting

    async def remittance(self, tenant: str, remittance_id: str) -> RemittanceState:
        return await self.state(streams.remittance(tenant, remittance_id), remittances.remittance)

    async def post(self, meta: Metadata, remittance_id: str) -> RemittanceState:
        """Post every claim payment not answered yet; a remittance fully posted is left."""
        stream = streams.remittance(meta.tenant, remittance_id)
        state = await self.remittance(meta.tenant, remittance_id)
        if state.received is None:
            raise NotFound(f"remittance {remittance_id} not found")
        if not state.pending:
            return state
        received = state.received
        paid_on = received.paid_on or received.received_at.date()
        counts: Counter[str] = Counter()
        order = sorted(
            range(len(state.claims)), key=lambda n: state.claims[n].status_code != REVERSAL
        )
        for index in order:
            counts[await self._post_one(meta, state, index, paid_on)] += 1
        outcome = await self.decide(
            stream,
            remittances.remittance,
            RecordPosted(
                posted=counts["posted"],
                already_posted=counts["already_posted"],
                unmatched=counts["unmatched"],
                provider_adjustments=received.provider_adjustments,
                posted_at=self.now(),
            ),
            meta,
            subject=remittance_id,
        )
        return outcome.state

    async def _post_one(
        self, meta: Metadata, state: RemittanceState, index: int, paid_on: date
    ) -> str:
        assert state.received is not None
        rid = state.received.remittance_id
        if index in state.unmatched_at:
            return "unmatched"
        claim = state.claims[index]
        try:
            verdict = await self._claims.post_remitted(
                meta,
                posting_id=posting_id_for(rid, index),
                remittance_id=rid,
                remitted=claim,
                paid_on=paid_on,
                payer_id=state.received.payer_id,
            )
        except NotFound:
            reason = f"no claim {claim.claim_ref} (CLP01) of ours"
        except Unpostable as refused:
            reason = str(refused)
        else:
            return "already_posted" if verdict == "already_posted" else "posted"
        command = RecordUnmatched(index, reason, self.now())
        stream = streams.remittance(meta.tenant, rid)
        await self.decide(stream, remittances.remittance, command, meta, subject=rid)
        log.info("remittance claim unmatched", remittance_id=rid, index=index, reason=reason)
        return "unmatched"

    async def match(
        self, meta: Metadata, remittance_id: str, index: int, claim_id: str | None
    ) -> RemittanceState:
        """A biller resolves an unmatched claim payment: posted to `claim_id` (None: the claim
        CLP01 names, once it can take it), then off the queue. 409 with the reason when the
        claim cannot take it; 404 for no such claim or queued payment."""
        state = await self.remittance(meta.tenant, remittance_id)
        check_waiting(state, index)
        assert state.received is not None
        paid = state.claims[index]
        received = state.received
        try:
            await self._claims.post_remitted(
                meta,
                posting_id=posting_id_for(remittance_id, index),
                remittance_id=remittance_id,
                remitted=paid,
                paid_on=received.paid_on or received.received_at.date(),
                claim_id=claim_id,
            )
        except Unpostable as refused:
            raise Rejected(str(refused)) from None
        matched_by = meta.actor or SYSTEM
        command = RecordMatched(index, claim_id or paid.claim_ref, matched_by, self.now())
        stream = streams.remittance(meta.tenant, remittance_id)
        outcome = await self.decide(
            stream, remittances.remittance, command, meta, subject=remittance_id
        )
        return outcome.state

    # ------------------------------------------------------------------------- reads

    async def get(self, tenant: str, remittance_id: str) -> dict[str, Any] | None:
        return await self._read_models.get(
            view.PROJECTION, view.REMITTANCES, view.doc_id(tenant, remittance_id)
        )

    async def unmatched(
        self, tenant: str, limit: int, after: str | None = None
    ) -> list[dict[str, Any]]:
        """The unmatched-remittance queue: claim payments waiting for a biller, by when they
        were found, then remittance and position."""
        where: dict[str, Any] = {"tenant": tenant, "open": True}
        if after is not None:
            where["key"] = {"$gt": after}
        return await self._read_models.find(
            view.PROJECTION, view.UNMATCHED, where, sort=[("key", 1)], limit=limit
        )

    async def pending(self, older_than: datetime, limit: int = 100) -> list[tuple[str, str]]:
        """(tenant, remittance id) of remittances received before `older_than` and not fully
        posted, from the read model (the resume timer's round)."""
        docs = await self._read_models.find(
            view.PROJECTION,
            view.REMITTANCES,
            {"pending": True, "received_at": {"$lt": older_than.isoformat()}},
            sort=[("received_at", 1)],
            limit=limit,
        )
        return [(str(d["tenant"]), str(d["remittance_id"])) for d in docs]


class PostRemittances:
    """A remittance received (or more of its claims, from another file) is posted."""

    name = "billing.post_remittances"
    contexts = ("billing",)

    def __init__(self, remittances: Remittances) -> None:
        self._remittances = remittances

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, RemittanceReceived | RemittanceClaimsReceived):
            await self._remittances.post(caused_by(envelope), event.remittance_id)


class ResumePostings(Timer):
    """Every round, each remittance left pending is posted: what a reaction cut short by a
    crash, or a dead letter, left undone."""

    name = "billing.remittances.resume"

    def __init__(self, remittances: Remittances, every: float) -> None:
        super().__init__(every)
        self._remittances = remittances
        self._period = timedelta(seconds=every)

    async def fire_due(self) -> int:
        every = self._period
        left = await self._remittances.pending(self._remittances.now() - every)
        for tenant, remittance_id in left:
            meta = Metadata(tenant=tenant, actor=SYSTEM, correlation_id=remittance_id)
            await self._remittances.post(meta, remittance_id)
        return len(left)
