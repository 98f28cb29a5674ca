"""Claims on the service layer: a released charge becomes one claim (once, however often the
release is delivered), ready or not by what the event store knows (enrolment with the payer
above all); claim files with unique, increasing control numbers, never one claim in two open
files (two handlers racing), written again byte for byte; the clearinghouse's steps; secondary
claims after the primary's adjudication; replacement and void. Every file is valid 837P."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from services.billing.app import UseCases
from services.billing.application import claims as claims_module
from services.billing.application.claim_files import ClaimFileUseCases, FileCannotBeWritten
from services.billing.application.claims import Claims, MakeClaims, RecheckDraftClaims
from services.billing.domain import streams
from services.billing.domain.claim_files import CreateBatch, InOpenFile, claim_files
from services.billing.domain.claims import CheckClaim, ClaimState, claim, claim_id_for
from services.billing.domain.events import (
    SELF_PAY,
    Adjustment,
    ClaimCreated,
    ClaimReady,
    EnrolmentLearnt,
    LineAdjudication,
)
from shared.commands import CommandHandler
from shared.domain import Invalid, Rejected
from shared.kit import Assembled
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts
from tests.service.conftest import META
from tests.support import wait_until
from tests.x12_checks import assert_valid_837

Built = Assembled[UseCases]


@pytest.fixture
def facts(billing_service: Built) -> Facts:
    return Facts(billing_service.kit.handler, META)


def claims_of(built: Built) -> Claims:
    return built.use_cases.claims


async def made(built: Built, charge_id: str, suffix: tuple[str, ...] = ()) -> ClaimState:
    """The claim the reaction made of a charge (waited for)."""
    claim_id = claim_id_for(charge_id, *suffix)

    async def probe() -> ClaimState:
        stream = streams.claim(META.tenant, claim_id)
        state: ClaimState = await built.use_cases.claims.state(stream, claim)
        return state

    # A state is truthy (a dataclass): wait on its having been created.
    async def created() -> ClaimState | None:
        state = await probe()
        return state if state.created is not None else None

    await wait_until(created, message=f"claim of {charge_id}")
    return await probe()


async def ready_claim(built: Built, facts: Facts, charge_id: str, patient: str = "pat-1") -> str:
    await facts.charge(charge_id, patient)
    state = await made(built, charge_id)
    assert state.status == "ready", state.problems
    return state.claim_id


@pytest.fixture
async def clinic(facts: Facts) -> Facts:
    await facts.clinic("north", "aetna")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna")
    return facts


# ----------------------------------------------------------------------------- making claims


async def test_a_released_charge_becomes_one_ready_claim_to_the_primary_payer(
    billing_service: Built, clinic: Facts
) -> None:
    await clinic.charge("appt-1", "pat-1")
    state = await made(billing_service, "appt-1")
    assert state.status == "ready"
    created = state.created
    assert created is not None
    assert (created.payer_id, created.priority, created.total_cents) == ("aetna", 1, TOTAL_CENTS)
    assert len(created.claim_id) <= 20


async def test_a_redelivered_release_makes_no_second_claim(
    billing_service: Built, clinic: Facts
) -> None:
    await clinic.charge("appt-1", "pat-1")
    state = await made(billing_service, "appt-1")
    stream = streams.claim(META.tenant, state.claim_id)
    version = await billing_service.kit.store.version(stream)
    [*_, released] = await billing_service.kit.store.load(streams.charge(META.tenant, "appt-1"))
    event = billing_service.kit.handler.registry.decode(released)
    reaction = MakeClaims(claims_of(billing_service))
    await reaction.react(event, released)
    await reaction.react(event, released)
    assert await billing_service.kit.store.version(stream) == version
    types = [e.type for e in await billing_service.kit.store.load(stream)]
    assert types == [ClaimCreated.type_name(), ClaimReady.type_name()]
    # ... and no claim of that charge anywhere else in the store.
    commits = await billing_service.kit.store.read_all()
    claimed = [
        e.stream
        for c in commits
        for e in c.events
        if e.type == ClaimCreated.type_name() and "appt-1" in e.data["charge_ids"]
    ]
    assert claimed == [stream]


async def test_a_self_pay_charge_makes_no_claim(billing_service: Built, clinic: Facts) -> None:
    await clinic.charge("appt-sp", "pat-1", payer_id=SELF_PAY, released=False)
    assert await claims_of(billing_service).make_from_charge(META, "appt-sp") is None


async def test_an_unreleased_charge_makes_no_claim(billing_service: Built, clinic: Facts) -> None:
    await clinic.charge("appt-held", "pat-1", released=False)
    assert await claims_of(billing_service).make_from_charge(META, "appt-held") is None


async def test_a_provider_not_enrolled_with_the_payer_leaves_the_claim_draft_until_enrolled(
    billing_service: Built, facts: Facts
) -> None:
    await facts.billing_provider("north")
    await facts.payer("aetna")
    await facts.provider("dr-a")  # enrolled with nobody
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna")
    await facts.charge("appt-1", "pat-1")
    state = await made(billing_service, "appt-1")
    assert state.status == "draft"
    assert state.problems == (
        f"rendering provider dr-a not enrolled with payer aetna on {DAY.isoformat()}",
    )
    with pytest.raises(Rejected, match="not enrolled"):
        await claims_of(billing_service).check(META, state.claim_id)
    await facts.enrol("dr-a", "aetna")
    outcome = await claims_of(billing_service).check(META, state.claim_id)
    assert outcome.state.status == "ready"


async def _status(built: Built, claim_id: str) -> ClaimState:
    state: ClaimState = await built.use_cases.claims.state(
        streams.claim(META.tenant, claim_id), claim
    )
    return state


async def _becomes(built: Built, claim_id: str, status: str) -> ClaimState:
    async def probe() -> ClaimState | None:
        state = await _status(built, claim_id)
        return state if state.status == status else None

    found = await wait_until(probe, message=f"claim {claim_id} {status}")
    assert found is not None
    return found


async def test_a_draft_claim_is_made_ready_by_itself_once_the_enrolment_is_learnt(
    billing_service: Built, facts: Facts
) -> None:
    await facts.billing_provider("north")
    await facts.payer("aetna")
    await facts.provider("dr-a")  # enrolled with nobody yet
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna")
    await facts.charge("appt-1", "pat-1")
    state = await made(billing_service, "appt-1")
    assert state.status == "draft"
    await facts.enrol("dr-a", "aetna")  # no biller asks: the reaction checks it again
    ready = await _becomes(billing_service, state.claim_id, "ready")
    assert ready.problems == ()


async def test_a_ready_claim_whose_enrolment_ended_goes_back_to_the_queue(
    billing_service: Built, clinic: Facts
) -> None:
    claim_id = await ready_claim(billing_service, clinic, "appt-1")
    ended = EnrolmentLearnt(
        provider_id="dr-a",
        payer_id="aetna",
        status="terminated",
        effective_from=DAY - timedelta(days=1),
        learnt_from="enrolment-ended",
    )
    await clinic.record(streams.rendering_provider(META.tenant, "dr-a"), ended)
    back = await _becomes(billing_service, claim_id, "draft")
    assert back.problems == (
        f"rendering provider dr-a not enrolled with payer aetna on {DAY.isoformat()}",
    )


async def test_a_claim_in_an_open_file_is_not_sent_back_to_the_queue_by_a_recheck(
    billing_service: Built, clinic: Facts
) -> None:
    """A fact gone bad after the file was made: the recheck (reaction or timer) leaves the filed
    claim as it is, so the file is sent and every claim of it submitted (no half-sent file)."""
    claim_id = await ready_claim(billing_service, clinic, "appt-1")
    files = billing_service.use_cases.claim_files
    [one] = await files.create_files(META, candidates=[claim_id])
    ended = EnrolmentLearnt(
        provider_id="dr-a",
        payer_id="aetna",
        status="terminated",
        effective_from=DAY - timedelta(days=1),
        learnt_from="enrolment-ended",
    )
    await clinic.record(streams.rendering_provider(META.tenant, "dr-a"), ended)
    assert await claims_of(billing_service).recheck(META, claim_id) is None
    assert (await _status(billing_service, claim_id)).status == "ready"
    await files.mark_batch_sent(META, one.batch_id, "f.837")
    assert (await _status(billing_service, claim_id)).status == "submitted"


async def test_a_claim_gone_bad_is_left_out_of_the_file_and_sent_back_to_the_queue(
    billing_service: Built, clinic: Facts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when no reaction saw the change (here: none looks), making the file checks each
    ready claim from the event store: the bad one goes back to draft, the good one is filed."""
    monkeypatch.setattr(claims_module, "_concerned", lambda event: None)
    await clinic.provider("dr-b", "aetna")
    good = await ready_claim(billing_service, clinic, "appt-1")
    await clinic.charge("appt-2", "pat-1", provider_id="dr-b")
    bad = (await made(billing_service, "appt-2")).claim_id
    await clinic.record(
        streams.rendering_provider(META.tenant, "dr-b"),
        EnrolmentLearnt(
            provider_id="dr-b",
            payer_id="aetna",
            status="terminated",
            effective_from=DAY - timedelta(days=1),
            learnt_from="enrolment-ended-b",
        ),
    )
    assert (await _status(billing_service, bad)).status == "ready"  # nobody rechecked it
    files = billing_service.use_cases.claim_files
    [made_file] = await files.create_files(META, candidates=[good, bad])
    assert made_file.claim_ids == (good,)
    back = await _status(billing_service, bad)
    assert back.status == "draft"
    assert back.problems == (
        f"rendering provider dr-b not enrolled with payer aetna on {DAY.isoformat()}",
    )


async def test_the_recheck_timer_makes_ready_what_no_reaction_did(
    billing_service: Built, facts: Facts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claims_module, "_concerned", lambda event: None)  # reactions miss all
    await facts.billing_provider("north")
    await facts.payer("aetna")
    await facts.provider("dr-a")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna")
    await facts.charge("appt-1", "pat-1")
    state = await made(billing_service, "appt-1")
    await facts.enrol("dr-a", "aetna")
    claims = claims_of(billing_service)

    async def listed() -> bool | None:  # the timer finds drafts through the read model
        return bool(await claims.find(META.tenant, {"claim_id": state.claim_id})) or None

    await wait_until(listed, message="the draft claim listed")
    assert (await _status(billing_service, state.claim_id)).status == "draft"
    assert await RecheckDraftClaims(claims, 60).fire_due() == 1
    assert (await _status(billing_service, state.claim_id)).status == "ready"
    assert await RecheckDraftClaims(claims, 60).fire_due() == 0  # nothing left to do


async def test_every_missing_fact_is_a_problem_listed(billing_service: Built, facts: Facts) -> None:
    await facts.patient("pat-2", address="somewhere near the river")
    await facts.coverage("pat-2", "cigna")
    await facts.charge("appt-2", "pat-2")
    state = await made(billing_service, "appt-2")
    assert state.status == "draft"
    assert set(state.problems) == {
        "no billing provider set for site north",
        "payer cigna not defined",
        "rendering provider dr-a NPI unknown",
        f"rendering provider dr-a not enrolled with payer cigna on {DAY.isoformat()}",
        "patient address incomplete",
    }


# ----------------------------------------------------------------------------- claim files


async def test_a_claim_file_is_valid_837p_and_written_again_byte_for_byte(
    billing_service: Built, clinic: Facts
) -> None:
    await clinic.patient("pat-2")
    await clinic.coverage("pat-2", "aetna", relationship="child", subscriber_name="John Doe")
    first = await ready_claim(billing_service, clinic, "appt-1")
    second = await ready_claim(billing_service, clinic, "appt-2", "pat-2")
    files = billing_service.use_cases.claim_files
    [made_file] = await files.create_files(META, candidates=[first, second])
    assert set(made_file.claim_ids) == {first, second}
    text = await files.file_text(META.tenant, made_file.batch_id)
    assert_valid_837(text)
    assert "ISA*" in text
    assert f"CLM*{first}*" in text
    assert "REF*6R*" in text
    assert "JANE" not in text.split("~")[0]  # no PHI in the envelope
    # A fact changed after the file was made does not change the file.
    await clinic.billing_provider("north", name="Riverside Medical Group Renamed")
    await clinic.patient("pat-1", address="1 New Rd, Springfield, IL 62704")
    assert await files.file_text(META.tenant, made_file.batch_id) == text
    batch = await files.batch(META.tenant, made_file.batch_id)
    assert batch.created.interchange_control_number == 1


async def test_a_primary_claim_names_the_patients_secondary_coverage_in_2320(
    billing_service: Built, clinic: Facts
) -> None:
    await clinic.payer("bcbs", indicator="BL")
    await clinic.coverage(
        "pat-1", "bcbs", priority=2, relationship="spouse", subscriber_name="Sam Doe"
    )
    claim_id = await ready_claim(billing_service, clinic, "appt-1")
    files = billing_service.use_cases.claim_files
    [made_file] = await files.create_files(META, candidates=[claim_id])
    text = await files.file_text(META.tenant, made_file.batch_id)
    assert_valid_837(text)
    segments = [s.strip() for s in text.split("~")]
    other = segments.index("SBR*S*01*G100******BL")  # the secondary, spouse of the patient
    assert segments[other + 1 : other + 4] == [
        "OI***Y*P**Y",
        "NM1*IL*1*DOE*SAM****MI*M2PAT1",
        "NM1*PR*2*BCBS HEALTH*****PI*BCBS01",
    ]
    assert not any(s.startswith("AMT*D") for s in segments)  # nobody adjudicated it yet
    assert await files.file_text(META.tenant, made_file.batch_id) == text


async def test_control_numbers_are_unique_and_increasing(
    billing_service: Built, clinic: Facts
) -> None:
    files = billing_service.use_cases.claim_files
    numbers = []
    for n in range(3):
        claim_id = await ready_claim(billing_service, clinic, f"appt-{n}")
        [one] = await files.create_files(META, candidates=[claim_id])
        batch = await files.batch(META.tenant, one.batch_id)
        numbers.append(
            (batch.created.interchange_control_number, batch.created.group_control_number)
        )
    assert numbers == [(1, 1), (2, 2), (3, 3)]


def second_handler(built: Built) -> CommandHandler:
    """Another process's handler on the same event store (its own folded states)."""
    kit = built.kit
    return CommandHandler(
        kit.store, kit.handler.registry, kit.clock, kit.ids, vault=kit.vault, tags=kit.handler.tags
    )


async def test_two_handlers_racing_never_put_a_claim_in_two_open_files(
    billing_service: Built, clinic: Facts
) -> None:
    ids = [await ready_claim(billing_service, clinic, f"appt-{n}") for n in range(4)]
    kit = billing_service.kit
    handler = second_handler(billing_service)
    other_claims = Claims(handler, kit.read_models, kit.phi_vault())
    other = ClaimFileUseCases(handler, other_claims, kit.settings)
    mine = billing_service.use_cases.claim_files
    results = await asyncio.gather(
        mine.create_files(META, candidates=ids), other.create_files(META, candidates=ids[::-1])
    )
    filed = [c for made_files in results for m in made_files for c in m.claim_ids]
    assert sorted(filed) == sorted(ids)  # each claim in exactly one file
    state = await mine.files(META.tenant)
    numbers = sorted(b.created.interchange_control_number for b in state.batches.values())
    assert numbers == list(range(1, len(numbers) + 1))


async def test_a_claim_in_an_open_file_is_refused_for_another(
    billing_service: Built, clinic: Facts
) -> None:
    claim_id = await ready_claim(billing_service, clinic, "appt-1")
    files = billing_service.use_cases.claim_files
    [first] = await files.create_files(META, candidates=[claim_id])
    assert await files.create_files(META, candidates=[claim_id]) == []
    state = await files.files(META.tenant)
    command = state.batches[first.batch_id].created
    again = CreateBatch(
        **{
            **command.model_dump(exclude={"interchange_control_number", "group_control_number"}),
            "batch_id": "b-other",
            "interchange_control_number": 2,
            "group_control_number": 2,
        }
    )
    with pytest.raises(InOpenFile):
        await files.decide(streams.claim_files(META.tenant), claim_files, again, META)


async def test_a_candidate_the_read_model_still_shows_ready_is_filed_only_if_its_stream_is(
    billing_service: Built, clinic: Facts
) -> None:
    """The read model only proposes: a claim adjudicated since (its row stale), or in an open
    file, is read again from its stream and the claim-files stream, and not filed."""
    answered = await submitted(billing_service, clinic, "appt-1")
    await claims_of(billing_service).adjudicate(META, answered, **primary_adjudication())
    held = await ready_claim(billing_service, clinic, "appt-2")
    files = billing_service.use_cases.claim_files
    [first] = await files.create_files(META, candidates=[held])
    assert await files.create_files(META, candidates=[answered, held]) == []
    assert (await files.files(META.tenant)).in_open_batch == {held: first.batch_id}


async def test_a_claim_changed_while_its_file_is_written_is_chosen_again(
    billing_service: Built, clinic: Facts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request sends a claim back to draft after the file read it and before the file
    is recorded: the file is chosen again from the claim's stream, and the claim left out."""
    stays = await ready_claim(billing_service, clinic, "appt-1")
    goes = await ready_claim(billing_service, clinic, "appt-2")
    files = billing_service.use_cases.claim_files
    write = files._write
    meanwhile = CheckClaim(claim_id=goes, problems=("payer changed",), checked_at=files.now())

    async def racing(tenant: str, batch: Any, facts: Any) -> str:
        if (await _status(billing_service, goes)).status == "ready":  # the first writing only
            await files.decide(streams.claim(META.tenant, goes), claim, meanwhile, META)
        return await write(tenant, batch, facts)

    monkeypatch.setattr(files, "_write", racing)
    [made_file] = await files.create_files(META, candidates=[stays, goes])
    assert made_file.claim_ids == (stays,)
    assert (await _status(billing_service, goes)).status == "draft"


async def test_sent_rejected_by_the_999_corrected_and_filed_again(
    billing_service: Built, clinic: Facts
) -> None:
    claim_id = await ready_claim(billing_service, clinic, "appt-1")
    files = billing_service.use_cases.claim_files
    [first] = await files.create_files(META, candidates=[claim_id])
    await files.mark_batch_sent(META, first.batch_id, "batch-1.837")
    assert (await claims_of(billing_service).claim_state(META.tenant, claim_id)).status == (
        "submitted"
    )
    await files.mark_batch_sent(META, first.batch_id, "batch-1.837")  # a retry: nothing new
    await files.acknowledge_batch(META, first.batch_id, "R", ["IK3*NM1*8**8"])
    rejected = await claims_of(billing_service).claim_state(META.tenant, claim_id)
    assert (rejected.status, rejected.reasons) == ("rejected", ("IK3*NM1*8**8",))
    await claims_of(billing_service).check(META, claim_id)
    [second] = await files.create_files(META, candidates=[claim_id])
    batch = await files.batch(META.tenant, second.batch_id)
    assert batch.created.interchange_control_number == 2
    assert_valid_837(await files.file_text(META.tenant, second.batch_id))


async def test_a_file_whose_patient_was_forgotten_cannot_be_written_again(
    billing_service: Built, clinic: Facts
) -> None:
    claim_id = await ready_claim(billing_service, clinic, "appt-1")
    files = billing_service.use_cases.claim_files
    [made_file] = await files.create_files(META, candidates=[claim_id])
    await billing_service.kit.phi_vault().forget(META.tenant, "pat-1")
    with pytest.raises(FileCannotBeWritten):
        await files.file_text(META.tenant, made_file.batch_id)


# ----------------------------------------------------------------------------- after sending


async def submitted(built: Built, facts: Facts, charge_id: str) -> str:
    claim_id = await ready_claim(built, facts, charge_id)
    files = built.use_cases.claim_files
    [one] = await files.create_files(META, candidates=[claim_id])
    await files.mark_batch_sent(META, one.batch_id, f"{one.batch_id}.837")
    await files.acknowledge_batch(META, one.batch_id, "A")
    await claims_of(built).accept(META, claim_id)
    return claim_id


def primary_adjudication() -> dict[str, Any]:
    return {
        "outcome": "partially_paid",
        "paid_cents": 9600,
        "patient_responsibility_cents": 2400,
        "payer_claim_control_number": "AET123456",
        "adjudicated_on": DAY,
        "adjustments": [Adjustment(group="CO", reason="45", amount_cents=3000)],
        "lines": [
            LineAdjudication(
                line_id="1",
                code="99213",
                paid_cents=9600,
                adjustments=(Adjustment(group="PR", reason="2", amount_cents=2400),),
            ),
            LineAdjudication(
                line_id="2",
                code="36415",
                paid_cents=0,
                adjustments=(Adjustment(group="CO", reason="97", amount_cents=3000),),
                remarks=("N130",),
            ),
        ],
    }


async def test_after_the_primarys_adjudication_the_secondary_payer_is_billed_with_it(
    billing_service: Built, facts: Facts
) -> None:
    await facts.clinic("north", "aetna", "bcbs")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna", priority=1)
    await facts.coverage("pat-1", "bcbs", priority=2)
    primary = await submitted(billing_service, facts, "appt-1")
    await claims_of(billing_service).adjudicate(META, primary, **primary_adjudication())
    secondary = await made(billing_service, "appt-1", ("2",))
    assert secondary.status == "ready", secondary.problems
    created = secondary.created
    assert created is not None
    assert (created.payer_id, created.priority, created.primary_claim_id) == ("bcbs", 2, primary)
    files = billing_service.use_cases.claim_files
    [one] = await files.create_files(META, payer_id="bcbs", candidates=[primary, created.claim_id])
    text = await files.file_text(META.tenant, one.batch_id)
    assert_valid_837(text)
    assert "SBR*S*18*" in text
    assert "SBR*P*18*" in text
    assert "AMT*D*96~" in text
    assert "CAS*CO*45*30~" in text
    assert "SVD*AETNA01*96*HC:99213**1~" in text
    assert "CAS*PR*2*24~" in text


async def test_a_fully_paid_primary_makes_no_secondary_claim(
    billing_service: Built, facts: Facts
) -> None:
    await facts.clinic("north", "aetna", "bcbs")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna", priority=1)
    await facts.coverage("pat-1", "bcbs", priority=2)
    primary = await submitted(billing_service, facts, "appt-1")
    paid = {**primary_adjudication(), "outcome": "paid", "paid_cents": TOTAL_CENTS, "lines": []}
    await claims_of(billing_service).adjudicate(META, primary, **paid)
    assert await claims_of(billing_service).make_secondary(META, primary) is None


async def test_a_replacement_and_a_void_name_the_payers_claim_control_number(
    billing_service: Built, clinic: Facts
) -> None:
    claims = claims_of(billing_service)
    claim_id = await submitted(billing_service, clinic, "appt-1")
    with pytest.raises(Rejected):  # the payer has not numbered it yet
        await claims.replace(META, claim_id, "7")
    await claims.adjudicate(META, claim_id, **primary_adjudication())
    outcome = await claims.replace(META, claim_id, "7")
    new = outcome.state.created
    assert new is not None
    assert (new.frequency, new.replaces, new.payer_claim_control_number) == (
        "7",
        claim_id,
        "AET123456",
    )
    assert (await claims.claim_state(META.tenant, claim_id)).status == "resubmitted"
    again = await claims.replace(META, claim_id, "7")  # a retry makes nothing new
    assert again.events == ()
    files = billing_service.use_cases.claim_files
    [one] = await files.create_files(META, candidates=[new.claim_id])
    text = await files.file_text(META.tenant, one.batch_id)
    assert_valid_837(text)
    assert f"CLM*{new.claim_id}*150*" in text
    assert "REF*F8*AET123456~" in text


async def test_paper_eob_lines_must_be_the_claims(billing_service: Built, clinic: Facts) -> None:
    claim_id = await submitted(billing_service, clinic, "appt-1")
    eob = primary_adjudication()
    eob["lines"] = [LineAdjudication(line_id="9", code="99999", paid_cents=0)]
    with pytest.raises(Invalid, match="not a line of the claim"):
        await claims_of(billing_service).adjudicate(META, claim_id, **eob)
    version = await billing_service.kit.store.version(streams.claim(META.tenant, claim_id))
    assert version == 4  # created, ready, submitted, accepted: nothing written
