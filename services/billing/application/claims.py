"""Claims use cases: making claims from released charges (and secondary claims after the
primary's adjudication), the ready checks, every lifecycle step (the clearinghouse's too:
`accept`, `reject`), replacement and void, and the claims read model's queries.

Ready checks are decided from the event store, never a read model: the site's billing provider
set, the payer defined, the coverage present, the rendering provider's NPI known and enrolled
with the payer on the date of service, the patient's demographics learnt and their address
readable. A claim failing them stays draft with its problems listed (`ClaimNotReady`, the
claims-not-ready work queue). Once the missing fact is in, it is checked again without a
biller (`RecheckClaims`, reacting to what billing learns and defines, and the
`RecheckDraftClaims` timer for what a lagging read model hid), or on the biller's
`POST /billing/claims/{id}/ready`. A ready claim whose facts went bad (an enrolment ended) goes
back to draft the same way, or when a claim file is made (`ClaimFileUseCases.create_files`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from services.billing.domain import streams
from services.billing.domain.accounts import PatientAccount
from services.billing.domain.accounts import evolve as evolve_account
from services.billing.domain.claim_files import ClaimFiles, claim_files
from services.billing.domain.claims import (
    AS_SECONDARY,
    FORWARDED,
    AcceptClaim,
    AdjudicateClaim,
    AppealClaim,
    ChargeFacts,
    CheckClaim,
    ClaimState,
    CreateClaim,
    Latest,
    PostingVerdict,
    PostRemittedClaim,
    RejectClaim,
    ReplaceClaim,
    WriteOffClaim,
    billing_provider,
    charge_facts,
    claim,
    claim_id_for,
    crossover_batch,
    left_to_collect,
    parse_address,
    payer_definition,
    posting_verdict,
)
from services.billing.domain.events import (
    SELF_PAY,
    Adjustment,
    BillingProviderSet,
    ChargeCorrected,
    ChargeReleased,
    ClaimAdjudicated,
    ClaimCreated,
    CoverageLearnt,
    EnrolmentLearnt,
    LineAdjudication,
    PatientLearnt,
    PayerDefined,
    PlanDefined,
    ProviderLearnt,
    RemittedClaim,
    StreamVersion,
)
from services.billing.domain.providers import RenderingProvider
from services.billing.domain.providers import evolve as evolve_provider
from services.billing.projections.claims import CLAIMS, PROJECTION
from shared.commands import CommandHandler, Outcome
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent, Envelope, Metadata
from shared.phivault import REDACTED, PhiVault
from shared.readmodels import ReadModels, public
from shared.timers import Timer
from shared.usecases import UseCases

SYSTEM = "system:billing.claims"
RECHECK_PAGE = 200  # draft claims read at a time when checking them again


def _no_commands(state: Any, command: object) -> Sequence[DomainEvent]:
    raise AssertionError("a fold only")


account = Decider[PatientAccount, object](PatientAccount(), evolve_account, _no_commands)
rendering = Decider[RenderingProvider, object](RenderingProvider(), evolve_provider, _no_commands)


@dataclass(frozen=True)
class ClaimFacts:
    """Everything a claim's checks and its 837P loops read, each stream at the version read."""

    created: ClaimCreated
    state: ClaimState
    charge: ChargeFacts
    account: PatientAccount
    provider: RenderingProvider
    payer: PayerDefined | None
    billing_provider: BillingProviderSet | None
    primary: ClaimState | None  # a secondary claim's primary, as adjudicated
    primary_payer: PayerDefined | None
    sources: tuple[StreamVersion, ...]
    # On a primary claim, the payer of the patient's secondary coverage (loop 2320 names it).
    other_payer: PayerDefined | None = None

    @property
    def coverage(self) -> CoverageLearnt | None:
        """The claim's coverage: the patient's coverage in the claim's place with its payer."""
        found = self.account.coverage(self.created.priority)
        return found if found is not None and found.payer_id == self.created.payer_id else None

    @property
    def primary_coverage(self) -> CoverageLearnt | None:
        if self.primary is None or self.primary.created is None:
            return None
        wanted = self.primary.created.coverage_id
        return next((c for c in self.account.coverages if c.coverage_id == wanted), None)

    @property
    def other_coverage(self) -> CoverageLearnt | None:
        """A primary claim's other coverage: the patient's secondary, when its payer is known."""
        if self.created.priority != 1 or self.other_payer is None:
            return None
        found = self.account.coverage(2)
        return found if found is not None and found.payer_id == self.other_payer.payer_id else None

    @property
    def date_of_service(self) -> date:
        assert self.charge.created is not None
        return self.charge.created.date_of_service


class Claims(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels, vault: PhiVault) -> None:
        super().__init__(handler)
        self._read_models = read_models
        self._vault = vault

    # ------------------------------------------------------------------------- facts

    async def fold(
        self, stream: str, decider: Decider[Any, Any], upto: int | None = None
    ) -> tuple[Any, int]:
        """A stream's state folded from the event store, up to version `upto` (all: None)."""
        if upto is None:
            return await self._handler.load(stream, decider)
        state = decider.initial
        version = 0
        for envelope in await self._handler.store.load(stream):
            if envelope.stream_version > upto:
                break
            state = decider.evolve(state, self._handler.registry.decode(envelope))
            version = envelope.stream_version
        return state, version

    async def claim_state(self, tenant: str, claim_id: str) -> ClaimState:
        state: ClaimState = await self.state(streams.claim(tenant, claim_id), claim)
        if state.created is None:
            raise NotFound(f"claim {claim_id} not found")
        return state

    async def facts(
        self,
        tenant: str,
        created: ClaimCreated,
        upto: dict[str, int] | None = None,
    ) -> ClaimFacts:
        """What a claim is made of, read from the event store: each stream up to the version
        `upto` names (as a claim file recorded them), else as it stands."""
        limits = upto or {}
        read: list[StreamVersion] = []

        async def get(stream: str, decider: Decider[Any, Any]) -> Any:
            state, version = await self.fold(stream, decider, limits.get(stream))
            read.append(StreamVersion(stream=stream, version=version))
            return state

        claim_stream = streams.claim(tenant, created.claim_id)
        state: ClaimState = await get(claim_stream, claim)
        charge: ChargeFacts = await get(streams.charge(tenant, created.charge_ids[0]), charge_facts)
        patient: PatientAccount = await get(
            streams.patient_account(tenant, created.patient_id), account
        )
        provider: RenderingProvider = await get(
            streams.rendering_provider(tenant, created.provider_id), rendering
        )
        payer: Latest = await get(streams.payer(tenant, created.payer_id), payer_definition)
        site: Latest = await get(
            streams.billing_provider(tenant, created.site_id), billing_provider
        )
        primary: ClaimState | None = None
        primary_payer: Latest = Latest()
        if created.primary_claim_id is not None:
            primary = await get(streams.claim(tenant, created.primary_claim_id), claim)
            if primary.created is not None:
                primary_payer = await get(
                    streams.payer(tenant, primary.created.payer_id), payer_definition
                )
        # A primary claim names the patient's secondary coverage (2320). A file recorded
        # without its payer's stream among its sources (made before claims named it) is
        # written again as it was: without it.
        other_payer: Latest = Latest()
        secondary = patient.coverage(2)
        if created.priority == 1 and secondary is not None and secondary.payer_id != SELF_PAY:
            other_stream = streams.payer(tenant, secondary.payer_id)
            if upto is None or other_stream in limits:
                other_payer = await get(other_stream, payer_definition)
        return ClaimFacts(
            created=state.created or created,
            state=state,
            charge=charge,
            account=patient,
            provider=provider,
            payer=payer.event if isinstance(payer.event, PayerDefined) else None,
            billing_provider=site.event if isinstance(site.event, BillingProviderSet) else None,
            primary=primary,
            primary_payer=(
                primary_payer.event if isinstance(primary_payer.event, PayerDefined) else None
            ),
            sources=tuple(read),
            other_payer=other_payer.event if isinstance(other_payer.event, PayerDefined) else None,
        )

    async def problems(self, tenant: str, facts: ClaimFacts) -> tuple[str, ...]:
        """Why the claim cannot go in a file yet (nothing: it can)."""
        found: list[str] = []
        created = facts.created
        if facts.billing_provider is None:
            found.append(f"no billing provider set for site {created.site_id}")
        if facts.payer is None:
            found.append(f"payer {created.payer_id} not defined")
        coverage = facts.coverage
        if coverage is None:
            found.append(f"no coverage with payer {created.payer_id}")
        elif coverage.relationship != "self" and not await self._open(
            tenant, coverage.subscriber_name
        ):
            found.append("subscriber name missing")
        if facts.provider.npi is None or facts.provider.name is None:
            found.append(f"rendering provider {created.provider_id} NPI unknown")
        if not facts.provider.enrolled_with(created.payer_id, facts.date_of_service):
            found.append(
                f"rendering provider {created.provider_id} not enrolled with payer "
                f"{created.payer_id} on {facts.date_of_service.isoformat()}"
            )
        demographics = facts.account.demographics
        if facts.account.forgotten:
            found.append("patient forgotten")
        elif demographics is None:
            found.append("patient demographics not learnt")
        elif parse_address(await self._open(tenant, demographics.address)) is None:
            found.append("patient address incomplete")
        if not facts.charge.lines or facts.charge.total_cents <= 0:
            found.append("the charge bills nothing")
        if facts.primary is not None and facts.primary.adjudication is None:
            found.append("the primary claim is not adjudicated")
        return tuple(found)

    async def _open(self, tenant: str, value: Any) -> str:
        text = await self._vault.reveal(tenant, value)
        return "" if text == REDACTED else text

    async def demographics(self, tenant: str, patient: PatientLearnt) -> dict[str, str]:
        """The patient's PHI opened (to write a claim file): name, birth date, sex, address."""
        return {
            "name": await self._open(tenant, patient.name),
            "birth_date": await self._open(tenant, patient.birth_date),
            "sex": await self._open(tenant, patient.sex),
            "address": await self._open(tenant, patient.address),
        }

    async def open_phi(self, tenant: str, value: Any) -> str:
        return await self._open(tenant, value)

    # ------------------------------------------------------------------------- making claims

    async def make_from_charge(self, meta: Metadata, charge_id: str) -> Outcome[ClaimState] | None:
        """The claim of a released charge to the patient's primary payer (self-pay charges make
        none: None). Its id is the charge's (`claim_id_for(charge_id)`), so a redelivered
        release records nothing."""
        charge, _ = await self.fold(streams.charge(meta.tenant, charge_id), charge_facts)
        if charge.created is None:
            raise NotFound(f"charge {charge_id} not found")
        if not charge.released or charge.payer_id == SELF_PAY:
            return None
        patient, _ = await self.fold(
            streams.patient_account(meta.tenant, charge.created.patient_id), account
        )
        primary = patient.primary
        payer_id = primary.payer_id if primary is not None else charge.created.payer_id
        if payer_id == SELF_PAY:
            return None
        return await self._create(
            meta,
            claim_id=claim_id_for(charge_id),
            charge=charge,
            payer_id=payer_id,
            coverage_id=primary.coverage_id if primary is not None else "",
            priority=1,
        )

    async def make_secondary(
        self, meta: Metadata, primary_claim_id: str
    ) -> Outcome[ClaimState] | None:
        """After the primary payer's adjudication, the claim to the patient's secondary payer
        for what is left, carrying the primary's adjudication (2320/2430). None: no secondary
        coverage, or nothing left."""
        primary = await self.claim_state(meta.tenant, primary_claim_id)
        assert primary.created is not None
        if primary.adjudication is None or primary.created.priority != 1:
            return None
        if left_to_collect(primary) <= 0:
            return None
        patient, _ = await self.fold(
            streams.patient_account(meta.tenant, primary.created.patient_id), account
        )
        secondary = patient.coverage(2)
        if secondary is None or secondary.payer_id == SELF_PAY:
            return None
        charge_id = primary.created.charge_ids[0]
        charge, _ = await self.fold(streams.charge(meta.tenant, charge_id), charge_facts)
        # Forwarded by the primary payer (CLP02 19-21): the secondary has the claim already;
        # ours is recorded submitted and never sent (a second claim would be billed twice).
        forwarded = primary.adjudication.claim_status_code in FORWARDED
        return await self._create(
            meta,
            claim_id=claim_id_for(charge_id, "2"),
            charge=charge,
            payer_id=secondary.payer_id,
            coverage_id=secondary.coverage_id,
            priority=2,
            primary_claim_id=primary_claim_id,
            crossed_over=crossover_batch(primary_claim_id) if forwarded else None,
        )

    async def _create(
        self,
        meta: Metadata,
        *,
        claim_id: str,
        charge: ChargeFacts,
        payer_id: str,
        coverage_id: str,
        priority: int,
        primary_claim_id: str | None = None,
        frequency: Literal["1", "7", "8"] = "1",
        replaces: str | None = None,
        payer_claim_control_number: str | None = None,
        crossed_over: str | None = None,
    ) -> Outcome[ClaimState]:
        assert charge.created is not None
        created = ClaimCreated(
            claim_id=claim_id,
            patient_id=charge.created.patient_id,
            payer_id=payer_id,
            coverage_id=coverage_id,
            priority=priority,
            site_id=charge.created.site_id,
            provider_id=charge.created.provider_id,
            charge_ids=(charge.created.charge_id,),
            total_cents=charge.total_cents,
            frequency=frequency,
            replaces=replaces,
            payer_claim_control_number=payer_claim_control_number,
            created_at=self.now(),
            primary_claim_id=primary_claim_id,
        )
        stream = streams.claim(meta.tenant, claim_id)
        existing: ClaimState = await self.state(stream, claim)
        if existing.created is not None:
            return Outcome(stream, await self.stream_version(stream), (), existing)
        if crossed_over is not None:  # the payer forwarded it: our checks send nothing
            command = CreateClaim(claim=created, problems=(), crossed_over=crossed_over)
            return await self.decide(stream, claim, command, meta)
        problems = await self.problems(meta.tenant, await self.facts(meta.tenant, created))
        command = CreateClaim(claim=created, problems=problems)
        return await self.decide(stream, claim, command, meta)

    # ------------------------------------------------------------------------- lifecycle

    async def check(self, meta: Metadata, claim_id: str) -> Outcome[ClaimState]:
        """Run the ready checks again on a draft (or rejected, corrected) claim: ready when
        they pass; else its problems are recorded anew (when they changed) and the claim stays
        where it was, and the answer is a 409 naming them."""
        state = await self.claim_state(meta.tenant, claim_id)
        assert state.created is not None
        problems = await self.problems(meta.tenant, await self.facts(meta.tenant, state.created))
        command = CheckClaim(claim_id=claim_id, problems=problems, checked_at=self.now())
        outcome = await self.decide(streams.claim(meta.tenant, claim_id), claim, command, meta)
        if problems:
            raise Rejected(f"claim {claim_id} is not ready: {'; '.join(problems)}")
        return outcome

    async def recheck(self, meta: Metadata, claim_id: str) -> Outcome[ClaimState] | None:
        """The checks again, without a biller: a draft claim whose missing facts arrived
        becomes ready, a ready one whose facts went bad goes back to draft with its problems;
        the same problems again record nothing. None: the claim is past checking (in a file,
        answered), or gone."""
        with contextlib.suppress(NotFound):
            state = await self.claim_state(meta.tenant, claim_id)
            assert state.created is not None
            if state.status not in ("draft", "ready"):
                return None
            if state.status == "ready" and await self._in_open_file(meta.tenant, claim_id):
                return None  # filed: sent as it was written (its digest), the payer answers
            facts = await self.facts(meta.tenant, state.created)
            problems = await self.problems(meta.tenant, facts)
            command = CheckClaim(claim_id=claim_id, problems=problems, checked_at=self.now())
            with contextlib.suppress(Rejected):  # it moved on meanwhile (filed, answered)
                return await self.decide(streams.claim(meta.tenant, claim_id), claim, command, meta)
        return None

    async def _in_open_file(self, tenant: str, claim_id: str) -> bool:
        files: ClaimFiles = await self.state(streams.claim_files(tenant), claim_files)
        return claim_id in files.in_open_batch

    async def recheck_waiting(
        self,
        tenant: str,
        where: dict[str, Any] | None = None,
        meta: Metadata | None = None,
        statuses: tuple[str, ...] = ("draft",),
    ) -> int:
        """Re-check the tenant's claims in `statuses` (those `where` narrows to): the read
        model only proposes them, each is decided from the event store. How many it made
        ready."""
        meta = meta or Metadata(tenant=tenant, actor=SYSTEM, correlation_id="billing:recheck")
        wanted = {"tenant": tenant, "status": {"$in": list(statuses)}, **(where or {})}
        ready = 0
        after = ""
        while True:  # a page at a time, in claim id order (an index scan)
            page = await self._read_models.find(
                PROJECTION,
                CLAIMS,
                {**wanted, "claim_id": {"$gt": after}},
                sort=[("claim_id", 1)],
                limit=RECHECK_PAGE,
            )
            for row in page:
                outcome = await self.recheck(meta, str(row["claim_id"]))
                if outcome is not None and outcome.events and outcome.state.status == "ready":
                    ready += 1
            if len(page) < RECHECK_PAGE:
                return ready
            after = str(page[-1]["claim_id"])

    async def tenants_waiting(self) -> list[str]:
        """The tenants with a draft claim, from the read model (the timer's round): one
        indexed read per tenant found."""
        tenants: list[str] = []
        while True:
            where: dict[str, Any] = {"status": "draft"}
            if tenants:
                where["tenant"] = {"$gt": tenants[-1]}
            found = await self._read_models.find(
                PROJECTION, CLAIMS, where, sort=[("tenant", 1)], limit=1
            )
            if not found:
                return tenants
            tenants.append(str(found[0]["tenant"]))

    async def accept(
        self, meta: Metadata, claim_id: str, payer_claim_control_number: str | None = None
    ) -> Outcome[ClaimState]:
        """A 277CA accepted the claim for adjudication (a second read of it records nothing)."""
        command = AcceptClaim(
            claim_id=claim_id,
            accepted_at=self.now(),
            payer_claim_control_number=payer_claim_control_number,
        )
        return await self._step(meta, claim_id, command)

    async def reject(
        self, meta: Metadata, claim_id: str, reasons: Sequence[str]
    ) -> Outcome[ClaimState]:
        """A 277CA (or the file's 999) rejected the claim, with its reasons (rejected-claims
        work queue); corrected, `check` makes it ready for a new file."""
        command = RejectClaim(claim_id=claim_id, reasons=tuple(reasons), rejected_at=self.now())
        return await self._step(meta, claim_id, command)

    async def adjudicate(
        self,
        meta: Metadata,
        claim_id: str,
        *,
        outcome: Literal["paid", "partially_paid", "denied"],
        paid_cents: int,
        patient_responsibility_cents: int,
        payer_claim_control_number: str,
        adjudicated_on: date,
        adjustments: Sequence[Adjustment] = (),
        lines: Sequence[LineAdjudication] = (),
    ) -> Outcome[ClaimState]:
        """The payer's decision, from a remittance or a paper EOB a biller posts."""
        state = await self.claim_state(meta.tenant, claim_id)
        assert state.created is not None
        charge, _ = await self.fold(
            streams.charge(meta.tenant, state.created.charge_ids[0]), charge_facts
        )
        known = {line.line_id: line.code for line in charge.lines}
        for line in lines:
            if known.get(line.line_id) != line.code:
                raise Invalid(f"line {line.line_id} ({line.code}) is not a line of the claim")
        command = AdjudicateClaim(
            claim_id=claim_id,
            outcome=outcome,
            paid_cents=paid_cents,
            patient_responsibility_cents=patient_responsibility_cents,
            payer_claim_control_number=payer_claim_control_number,
            adjustments=tuple(adjustments),
            lines=tuple(lines),
            adjudicated_on=adjudicated_on,
            recorded_at=self.now(),
            posting_id=self.new_id(),
        )
        return await self._step(meta, claim_id, command)

    async def post_remitted(
        self,
        meta: Metadata,
        *,
        posting_id: str,
        remittance_id: str,
        remitted: RemittedClaim,
        paid_on: date,
        claim_id: str | None = None,
        payer_id: str | None = None,
    ) -> PostingVerdict:
        """A remittance's payment of the claim CLP01 names, posted on the claim's stream
        (`domain/claims.py` decides: an adjudication, or a reversal of the posting it takes
        back): "new" when posted now, "posted_here" when this posting was recorded before (a
        posting resumed), "already_posted" when another remittance posted the same payment.
        `Unpostable` (its reason) when it cannot be posted; `NotFound` for no such claim.
        `claim_id`: another claim than CLP01 names (a biller's match); the payer's REF*6R then
        names none of its lines, so the lines are posted as not echoed. `payer_id`: the
        remittance's payer, when known: a claim billed to another is not posted."""
        if claim_id is None and remitted.status_code == AS_SECONDARY:
            claim_id = await self._crossed_over_to(meta.tenant, remitted.claim_ref)
        if claim_id is not None and claim_id != remitted.claim_ref:
            lines = tuple(line.model_copy(update={"line_id": ""}) for line in remitted.lines)
            remitted = remitted.model_copy(update={"claim_ref": claim_id, "lines": lines})
        state = await self.claim_state(meta.tenant, remitted.claim_ref)
        assert state.created is not None
        charge, _ = await self.fold(
            streams.charge(meta.tenant, state.created.charge_ids[0]), charge_facts
        )
        command = PostRemittedClaim(
            claim_id=state.claim_id,
            posting_id=posting_id,
            remittance_id=remittance_id,
            remitted=remitted,
            line_ids=tuple(line.line_id for line in charge.lines),
            paid_on=paid_on,
            recorded_at=self.now(),
            payer_id=payer_id,
        )
        stream = streams.claim(meta.tenant, state.claim_id)
        outcome = await self.decide(stream, claim, command, meta)
        return "new" if outcome.events else posting_verdict(outcome.state, command)

    async def _crossed_over_to(self, tenant: str, claim_ref: str) -> str | None:
        """A secondary payer's payment naming the primary claim (CLP01 as the primary payer
        forwarded it, CLP02 2): the secondary claim the crossover made, if there is one."""
        state: ClaimState = await self.state(streams.claim(tenant, claim_ref), claim)
        if state.created is None or state.created.priority != 1:
            return None
        secondary = claim_id_for(state.created.charge_ids[0], "2")
        made: ClaimState = await self.state(streams.claim(tenant, secondary), claim)
        crossed = made.created is not None and made.batch_id == crossover_batch(claim_ref)
        return secondary if crossed else None

    async def appeal(self, meta: Metadata, claim_id: str, reason: str) -> Outcome[ClaimState]:
        command = AppealClaim(claim_id=claim_id, reason=reason, appealed_at=self.now())
        return await self._step(meta, claim_id, command)

    async def write_off(self, meta: Metadata, claim_id: str, reason: str) -> Outcome[ClaimState]:
        """Give up what is left to collect of a denied, partly paid, appealed or rejected
        claim."""
        command = WriteOffClaim(claim_id=claim_id, reason=reason, written_off_at=self.now())
        return await self._step(meta, claim_id, command)

    async def replace(
        self, meta: Metadata, claim_id: str, frequency: Literal["7", "8"]
    ) -> Outcome[ClaimState]:
        """A replacement (7: from the charge as it now stands) or void (8) of a claim the payer
        numbered (accepted with its claim control number, or adjudicated): a new claim that
        `replaces` it, naming the payer's claim control number (REF*F8), then `ClaimReplaced`
        on the old one. 409 before the payer gave a number."""
        old = await self.claim_state(meta.tenant, claim_id)
        created = old.created
        assert created is not None
        if old.replaced_by is None:
            # Refused here (409) before anything is made, as the old claim's decider would.
            probe = ReplaceClaim(
                claim_id=claim_id, by_claim_id="-", frequency=frequency, replaced_at=self.now()
            )
            claim.decide(old, probe)
        new_id = old.replaced_by or claim_id_for(claim_id, frequency)
        charge, _ = await self.fold(
            streams.charge(meta.tenant, created.charge_ids[0]), charge_facts
        )
        made = await self._create(
            meta,
            claim_id=new_id,
            charge=charge,
            payer_id=created.payer_id,
            coverage_id=created.coverage_id,
            priority=created.priority,
            primary_claim_id=created.primary_claim_id,
            frequency=frequency,
            replaces=claim_id,
            payer_claim_control_number=old.payer_claim_control_number,
        )
        command = ReplaceClaim(
            claim_id=claim_id, by_claim_id=new_id, frequency=frequency, replaced_at=self.now()
        )
        await self._step(meta, claim_id, command)
        return made

    async def _step(self, meta: Metadata, claim_id: str, command: Any) -> Outcome[ClaimState]:
        await self.claim_state(meta.tenant, claim_id)  # 404 for no such claim
        return await self.decide(streams.claim(meta.tenant, claim_id), claim, command, meta)

    # ------------------------------------------------------------------------- queries

    async def get(self, tenant: str, claim_id: str) -> dict[str, Any] | None:
        doc = public(await self._read_models.get(PROJECTION, CLAIMS, f"{tenant}:{claim_id}"))
        if doc is not None:
            doc.pop("tenant", None)
        return doc

    async def find(
        self,
        tenant: str,
        where: dict[str, Any],
        limit: int | None = None,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        """Claims in claim id order: `limit` of them (None: all) after the claim id `after`."""
        wanted = {"tenant": tenant, **where}
        if after is not None:
            wanted["claim_id"] = {"$gt": after}
        docs = await self._read_models.find(
            PROJECTION, CLAIMS, wanted, sort=[("claim_id", 1)], limit=limit
        )
        rows = []
        for doc in docs:
            row = public(doc) or {}
            row.pop("tenant", None)
            rows.append(row)
        return rows

    async def unanswered(self, tenant: str, days: int) -> list[dict[str, Any]]:
        """Submitted claims with no answer (neither accepted nor rejected) after `days` days,
        by the clock: oldest first."""
        cutoff = (self.now() - timedelta(days=days)).isoformat()
        rows = await self.find(tenant, {"status": "submitted"})
        late = [r for r in rows if r.get("submitted_at") and r["submitted_at"] <= cutoff]
        return sorted(late, key=lambda r: (r["submitted_at"], r["claim_id"]))


# ----------------------------------------------------------------------------- reaction


def caused_by(envelope: Envelope) -> Metadata:
    return Metadata.reacting_to(envelope, SYSTEM)


class RecheckClaims:
    """A fact a claim's checks read changed: the patient's demographics or coverage, a
    provider's NPI or enrolment, a payer's or a site's billing definition. Each draft or ready
    claim it concerns is checked again (`Claims.recheck`): a draft is ready once nothing is
    missing, a ready one whose facts went bad is back in the queue. The read model proposes
    the claims; a draft it had not seen yet is caught by the `RecheckDraftClaims` timer."""

    name = "billing.recheck_claims"
    contexts = ("billing",)

    def __init__(self, claims: Claims) -> None:
        self._claims = claims

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        where = _concerned(event)
        if where is not None:  # ready ones too: a fact gone bad sends one back to the queue
            meta = caused_by(envelope)
            await self._claims.recheck_waiting(envelope.tenant, where, meta, ("draft", "ready"))


def _concerned(event: DomainEvent) -> dict[str, Any] | None:
    """Which draft claims an event may make ready (None: none)."""
    match event:
        case PatientLearnt() | CoverageLearnt():
            return {"patient_id": event.patient_id}
        case ProviderLearnt() | EnrolmentLearnt():
            return {"provider_id": event.provider_id}
        case PayerDefined() | PlanDefined():
            return {"payer_id": event.payer_id}
        case BillingProviderSet():
            return {"site_id": event.site_id}
    return None


class RecheckDraftClaims(Timer):
    """Every round, each tenant's draft claims checked again: what `RecheckClaims` missed
    while the read model lagged is made ready all the same."""

    name = "billing.claims.recheck"

    def __init__(self, claims: Claims, every: float) -> None:
        super().__init__(every)
        self._claims = claims

    async def fire_due(self) -> int:
        made = 0
        for tenant in await self._claims.tenants_waiting():
            made += await self._claims.recheck_waiting(tenant)
        return made


class MakeClaims:
    """A released charge becomes its claim to the patient's primary payer; a primary claim
    adjudicated with something left becomes the claim to the secondary payer. Both are
    idempotent (deterministic claim ids): a redelivery makes nothing new."""

    name = "billing.make_claims"
    contexts = ("billing",)

    def __init__(self, claims: Claims) -> None:
        self._claims = claims

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        meta = caused_by(envelope)
        # A charge or claim gone from the store meanwhile (never, short of a restore): nothing
        # to make; every other error goes to the dead-letter topic with its reason.
        with contextlib.suppress(NotFound):
            match event:
                case ChargeReleased():
                    await self._claims.make_from_charge(meta, event.charge_id)
                case ChargeCorrected(payer_id=payer_id) if payer_id is not None:
                    # A self-pay charge repriced under a coverage learnt after it was made.
                    await self._claims.make_from_charge(meta, event.charge_id)
                case ClaimAdjudicated():
                    await self._claims.make_secondary(meta, event.claim_id)
