"""Claim files (837P batches): making one per payer from the ready claims, writing a file's
bytes again (to send or download it), and what the clearinghouse records of it: sent
(`mark_batch_sent`), acknowledged by a 999 (`acknowledge_batch`).

A file is never stored: it holds many patients' PHI under no one key. `ClaimBatchCreated`
keeps its digest, the version of every stream it was written from, and the submitter; the
bytes are written again from exactly those events (PHI opened through the vault) and checked
against the digest whenever the file is sent or downloaded (`file_text`). A patient forgotten
since cannot be written again: the digest differs, and the file is refused (409).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.billing.application.claims import ClaimFacts, Claims
from services.billing.domain import streams
from services.billing.domain.claim_files import (
    AcknowledgeBatch,
    Batch,
    ClaimFiles,
    CreateBatch,
    InOpenFile,
    MarkBatchSent,
    Stale,
    claim_files,
)
from services.billing.domain.claims import (
    RejectClaim,
    SubmitClaim,
    claim,
    parse_address,
    relationship_code,
    sex_code,
    split_name,
)
from services.billing.domain.codes import without_dot
from services.billing.domain.events import (
    BatchSubmitter,
    ClaimBatchCreated,
    ClaimCreated,
    CoverageLearnt,
    StreamVersion,
)
from services.billing.domain.x12 import model as x12
from services.billing.domain.x12.segments import X12ValueError
from services.billing.domain.x12.writer837 import write_837
from shared.commands import CommandHandler, Outcome
from shared.domain import NotFound, Rejected
from shared.events import Metadata
from shared.settings import Settings
from shared.usecases import UseCases

ATTEMPTS = 5  # files written again when another file took the control numbers first
RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}


@dataclass(frozen=True)
class MadeFile:
    batch_id: str
    payer_id: str
    claim_ids: tuple[str, ...]
    outcome: Outcome[ClaimFiles]


class FileCannotBeWritten(Rejected):
    """The file's claims no longer write the bytes it was made with (say, a patient forgotten
    since): it cannot be sent or downloaded (409)."""


class ClaimFileUseCases(UseCases):
    def __init__(self, handler: CommandHandler, claims: Claims, settings: Settings) -> None:
        super().__init__(handler)
        self._claims = claims
        self._settings = settings

    def submitter(self) -> BatchSubmitter:
        s = self._settings
        return BatchSubmitter(
            id=s.claims_submitter_id,
            name=s.claims_submitter_name,
            contact_name=s.claims_submitter_contact_name,
            contact_phone=s.claims_submitter_contact_phone,
            receiver_id=s.claims_receiver_id,
            receiver_name=s.claims_receiver_name,
        )

    async def files(self, tenant: str) -> ClaimFiles:
        state: ClaimFiles = await self.state(streams.claim_files(tenant), claim_files)
        return state

    async def batch(self, tenant: str, batch_id: str) -> Batch:
        found = (await self.files(tenant)).batches.get(batch_id)
        if found is None:
            raise NotFound(f"claim file {batch_id} not found")
        return found

    # ------------------------------------------------------------------------- making files

    async def create_files(
        self, meta: Metadata, payer_id: str | None = None, candidates: Sequence[str] = ()
    ) -> list[MadeFile]:
        """One file per payer (or only `payer_id`'s) of the ready claims not in an open file.
        `candidates`: the claim ids to consider (by default the read model's ready claims);
        each is checked against the event store, and one whose checks fail now is left out
        and goes back to draft with its problems (the claims-not-ready queue)."""
        if not candidates:
            rows = await self._claims.find(meta.tenant, {"status": "ready"})
            candidates = [r["claim_id"] for r in rows]
        by_payer: dict[str, list[str]] = {}
        for claim_id in dict.fromkeys(candidates):
            state = await self._claims.claim_state(meta.tenant, claim_id)
            assert state.created is not None
            if state.status != "ready":
                continue
            if payer_id is None or state.created.payer_id == payer_id:
                by_payer.setdefault(state.created.payer_id, []).append(claim_id)
        made = []
        for payer, claim_ids in sorted(by_payer.items()):
            found = await self._create_file(meta, payer, claim_ids)
            if found is not None:
                made.append(found)
        return made

    async def _create_file(
        self, meta: Metadata, payer_id: str, claim_ids: list[str]
    ) -> MadeFile | None:
        tenant = meta.tenant
        for attempt in range(1, ATTEMPTS + 1):
            files = await self.files(tenant)
            wanted = [c for c in claim_ids if c not in files.in_open_batch]
            facts = [
                await self._claims.facts(tenant, await self._created(tenant, c)) for c in wanted
            ]
            # Each stream read once for the whole file, so it is written again the same.
            limits: dict[str, int] = {}
            for one in facts:
                for source in one.sources:
                    limits[source.stream] = max(limits.get(source.stream, 0), source.version)
            facts = [await self._claims.facts(tenant, f.created, limits) for f in facts]
            ready = []
            for f in facts:
                if f.state.status != "ready":
                    continue
                if await self._claims.problems(tenant, f):
                    # Its facts went bad since it was made ready: back to draft, with them.
                    await self._claims.recheck(meta, f.created.claim_id)
                    continue
                ready.append(f)
            if not ready:
                return None
            used = {
                s.stream for f in ready for s in f.sources
            }  # only the streams of the claims kept
            sources = tuple(StreamVersion(stream=s, version=limits[s]) for s in sorted(used))
            interchange, group = files.next_numbers()
            batch_id = batch_id_for(interchange)
            command = CreateBatch(
                batch_id=batch_id,
                payer_id=payer_id,
                interchange_control_number=interchange,
                group_control_number=group,
                claim_ids=tuple(f.created.claim_id for f in ready),
                usage=self._settings.claims_usage,
                created_at=self.now(),
                digest="",
                sources=sources,
                submitter=self.submitter(),
            )
            text = await self._write(tenant, command, ready)
            command = command.model_copy(update={"digest": _digest(text)})
            # The file is decided on the claim-files stream alone: a claim whose own stream
            # moved since it was read (sent back to draft, answered, by another request or a
            # reaction meanwhile) is chosen again from its stream, never filed as it was.
            if await self._claims_moved(tenant, ready, limits):
                if attempt == ATTEMPTS:
                    raise ClaimsChanged("claims changed while the file was made: try again")
                continue
            try:
                outcome = await self.decide(streams.claim_files(tenant), claim_files, command, meta)
            except (Stale, InOpenFile):
                if attempt == ATTEMPTS:
                    raise
                continue  # another file was made meanwhile: choose and write again
            return MadeFile(batch_id, payer_id, command.claim_ids, outcome)
        return None

    async def _claims_moved(
        self, tenant: str, ready: Sequence[ClaimFacts], limits: dict[str, int]
    ) -> bool:
        for f in ready:
            stream = streams.claim(tenant, f.created.claim_id)
            if await self.stream_version(stream) != limits[stream]:
                return True
        return False

    async def _created(self, tenant: str, claim_id: str) -> ClaimCreated:
        state = await self._claims.claim_state(tenant, claim_id)
        assert state.created is not None
        return state.created

    # ------------------------------------------------------------------------- the bytes

    async def file_text(self, tenant: str, batch_id: str) -> str:
        """The file's 837P, written again from the events it was made from and checked
        against its digest (409 when it no longer matches)."""
        created = (await self.batch(tenant, batch_id)).created
        limits = {s.stream: s.version for s in created.sources}
        facts = []
        for claim_id in created.claim_ids:
            state = await self._claims.claim_state(tenant, claim_id)
            assert state.created is not None
            facts.append(await self._claims.facts(tenant, state.created, limits))
        try:
            text = await self._write(tenant, created, facts)
        except (X12ValueError, IncompleteClaim) as exc:
            raise FileCannotBeWritten(f"claim file {batch_id} cannot be written again") from exc
        if _digest(text) != created.digest:
            raise FileCannotBeWritten(
                f"claim file {batch_id} no longer writes the bytes it was made with"
            )
        return text

    async def patients_in(self, tenant: str, batch_id: str) -> list[str]:
        created = (await self.batch(tenant, batch_id)).created
        patients = []
        for claim_id in created.claim_ids:
            state = await self._claims.claim_state(tenant, claim_id)
            assert state.created is not None
            patients.append(state.created.patient_id)
        return list(dict.fromkeys(patients))

    async def _write(
        self, tenant: str, batch: CreateBatch | ClaimBatchCreated, facts: Sequence[ClaimFacts]
    ) -> str:
        assert batch.submitter is not None
        s = batch.submitter
        file = x12.ClaimFile(
            interchange_control_number=batch.interchange_control_number,
            group_control_number=batch.group_control_number,
            created_at=batch.created_at,
            usage=batch.usage,
            submitter=x12.Submitter(
                name=s.name,
                id=s.id,
                contact_name=s.contact_name,
                contact_phone=s.contact_phone,
                receiver_name=s.receiver_name,
                receiver_id=s.receiver_id,
            ),
            claims=tuple([await self._x12_claim(tenant, f) for f in facts]),
            batch_id=batch.batch_id,
        )
        return write_837(file)

    async def _x12_claim(self, tenant: str, facts: ClaimFacts) -> x12.Claim:
        """A claim's 2300 loop and all under its subscriber, PHI opened."""
        created, bp, payer = facts.created, facts.billing_provider, facts.payer
        coverage, demographics = facts.coverage, facts.account.demographics
        if bp is None or payer is None or coverage is None or demographics is None:
            raise IncompleteClaim(created.claim_id)
        if facts.provider.npi is None or facts.provider.name is None:
            raise IncompleteClaim(created.claim_id)
        opened = await self._claims.demographics(tenant, demographics)
        patient = x12.Person(
            name=x12.PersonName(*split_name(opened["name"])),
            address=parse_address(opened["address"]),
            birth_date=_day(opened["birth_date"]),
            sex=sex_code(opened["sex"]),
        )
        if patient.address is None:
            raise IncompleteClaim(created.claim_id)
        self_insured = coverage.relationship.strip().lower() == "self"
        subscriber_person = (
            patient if self_insured else await self._subscriber(tenant, coverage, patient)
        )
        dos = facts.date_of_service
        lines = tuple(
            x12.ServiceLine(
                control_number=f"{created.claim_id}-{line.line_id}",
                code=line.code,
                modifiers=line.modifiers,
                charge_cents=line.fee_cents * line.units,
                units=line.units,
                diagnosis_pointers=line.diagnosis_pointers,
                date_of_service=dos,
                prior_adjudications=self._line_adjudications(facts, line.line_id),
            )
            for line in facts.charge.lines
        )
        return x12.Claim(
            claim_id=created.claim_id,
            billing_provider=x12.BillingProvider(
                name=bp.name,
                npi=bp.npi,
                tin=bp.tin,
                taxonomy_code=bp.taxonomy_code,
                address=bp.address,
            ),
            total_cents=sum(line.charge_cents for line in lines),
            place_of_service=bp.place_of_service,
            frequency=created.frequency,
            diagnoses=tuple(without_dot(d) for d in facts.charge.diagnoses),
            subscriber=x12.Subscriber(
                payer_responsibility=RESPONSIBILITY.get(created.priority, "T"),
                relationship="18" if self_insured else "",
                group_number=coverage.group_number,
                claim_filing_indicator=payer.claim_filing_indicator,
                member_id=await self._claims.open_phi(tenant, coverage.member_id),
                person=subscriber_person,
                payer_name=payer.name,
                payer_id=payer.x12_payer_id,
            ),
            patient=(
                None
                if self_insured
                else x12.Patient(
                    relationship=relationship_code(coverage.relationship), person=patient
                )
            ),
            rendering=x12.RenderingProvider(
                name=x12.PersonName(*split_name(facts.provider.name)),
                npi=facts.provider.npi,
                taxonomy_code=facts.provider.taxonomy_code or bp.taxonomy_code,
            ),
            facility=(
                None
                if bp.facility_address == bp.address
                else x12.ServiceFacility(name=bp.facility_name, address=bp.facility_address)
            ),
            lines=lines,
            payer_claim_control_number=created.payer_claim_control_number,
            other_subscribers=await self._other_subscribers(tenant, facts, patient),
        )

    async def _subscriber(
        self, tenant: str, coverage: CoverageLearnt, patient: x12.Person
    ) -> x12.Person:
        name = await self._claims.open_phi(tenant, coverage.subscriber_name)
        return x12.Person(name=x12.PersonName(*split_name(name)))

    def _line_adjudications(
        self, facts: ClaimFacts, line_id: str
    ) -> tuple[x12.LineAdjudication, ...]:
        primary = facts.primary
        if primary is None or primary.adjudication is None or facts.primary_payer is None:
            return ()
        adjudication = primary.adjudication
        charge_lines = {line.line_id: line for line in facts.charge.lines}
        return tuple(
            x12.LineAdjudication(
                payer_id=facts.primary_payer.x12_payer_id,
                paid_cents=line.paid_cents,
                code=line.code,
                modifiers=charge_lines[line_id].modifiers,
                units=charge_lines[line_id].units,
                adjustments=line.adjustments,
                adjudicated_on=adjudication.adjudicated_on,
            )
            for line in adjudication.lines
            if line.line_id == line_id and line_id in charge_lines
        )

    async def _subscriber_name(
        self, tenant: str, coverage: CoverageLearnt, patient: x12.Person
    ) -> x12.PersonName:
        if coverage.relationship.strip().lower() == "self":
            return patient.name
        name = await self._claims.open_phi(tenant, coverage.subscriber_name)
        return x12.PersonName(*split_name(name))

    async def _other_subscribers(
        self, tenant: str, facts: ClaimFacts, patient: x12.Person
    ) -> tuple[x12.OtherSubscriber, ...]:
        """On a secondary claim, the primary payer's coverage and what it decided; on a primary
        claim, the patient's secondary coverage, not adjudicated yet (2320)."""
        other, other_payer = facts.other_coverage, facts.other_payer
        if facts.primary is None and other is not None and other_payer is not None:
            return (
                x12.OtherSubscriber(
                    payer_responsibility="S",
                    relationship=relationship_code(other.relationship),
                    group_number=other.group_number,
                    claim_filing_indicator=other_payer.claim_filing_indicator,
                    member_id=await self._claims.open_phi(tenant, other.member_id),
                    name=await self._subscriber_name(tenant, other, patient),
                    payer_name=other_payer.name,
                    payer_id=other_payer.x12_payer_id,
                ),
            )
        primary, coverage, payer = facts.primary, facts.primary_coverage, facts.primary_payer
        if primary is None or primary.adjudication is None or coverage is None or payer is None:
            return ()
        name = await self._subscriber_name(tenant, coverage, patient)
        adjudication = primary.adjudication
        return (
            x12.OtherSubscriber(
                payer_responsibility="P",
                relationship=relationship_code(coverage.relationship),
                group_number=coverage.group_number,
                claim_filing_indicator=payer.claim_filing_indicator,
                member_id=await self._claims.open_phi(tenant, coverage.member_id),
                name=name,
                payer_name=payer.name,
                payer_id=payer.x12_payer_id,
                paid_cents=adjudication.paid_cents,
                adjustments=adjudication.adjustments,
                adjudicated_on=adjudication.adjudicated_on,
            ),
        )

    # ------------------------------------------------------------------------- the clearinghouse

    async def mark_batch_sent(
        self, meta: Metadata, batch_id: str, file_name: str
    ) -> Outcome[ClaimFiles]:
        """The file left for the clearinghouse as `file_name`: the batch is sent and each of
        its claims submitted. Recording it twice (a retry) records nothing new."""
        outcome = await self.decide(
            streams.claim_files(meta.tenant),
            claim_files,
            MarkBatchSent(batch_id=batch_id, file_name=file_name, sent_at=self.now()),
            meta,
        )
        sent = (await self.batch(meta.tenant, batch_id)).sent
        assert sent is not None
        for claim_id in (await self.batch(meta.tenant, batch_id)).created.claim_ids:
            command = SubmitClaim(claim_id=claim_id, batch_id=batch_id, submitted_at=sent.sent_at)
            await self.decide(streams.claim(meta.tenant, claim_id), claim, command, meta)
        return outcome

    async def acknowledge_batch(
        self,
        meta: Metadata,
        batch_id: str,
        code: Literal["A", "E", "R", "P"],
        errors: Sequence[str] = (),
    ) -> Outcome[ClaimFiles]:
        """The file's 999: accepted (A), with errors (E), partly accepted (P) or rejected (R).
        The batch closes (its claims may go in new files once made ready again); on R every
        claim of it is rejected with the 999's errors. The 277CA then answers per claim
        (`Claims.accept`, `Claims.reject`)."""
        outcome = await self.decide(
            streams.claim_files(meta.tenant),
            claim_files,
            AcknowledgeBatch(
                batch_id=batch_id, code=code, errors=tuple(errors), acknowledged_at=self.now()
            ),
            meta,
        )
        if code == "R":
            reasons = tuple(errors) or ("the claim file was rejected (999 R)",)
            for claim_id in (await self.batch(meta.tenant, batch_id)).created.claim_ids:
                command = RejectClaim(claim_id=claim_id, reasons=reasons, rejected_at=self.now())
                state = await self._claims.claim_state(meta.tenant, claim_id)
                if state.status in ("submitted", "accepted"):
                    await self.decide(streams.claim(meta.tenant, claim_id), claim, command, meta)
        return outcome


class ClaimsChanged(Rejected):
    """The file's claims kept changing while it was written (409: make it again)."""


class IncompleteClaim(Rejected):
    def __init__(self, claim_id: str) -> None:
        super().__init__(f"claim {claim_id} is missing what its file needs")


def batch_id_for(interchange_control_number: int) -> str:
    """A file's id (BHT03): its interchange control number, unique per tenant."""
    return f"B{interchange_control_number:09d}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
