"""Remittance posting on the service layer: the public 835 samples post with balances that tie
out; nothing posts twice (the same file again, a file split differently, a claim payment
repeated in another file, a posting resumed after it was cut short); a payment, its reversal
and a correction leave the claim's net paid as the correction says; what cannot be matched
waits in the unmatched queue with its reason."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import remittance_files as payer
from services.billing.app import UseCases
from services.billing.application.remittances import Receipt
from services.billing.domain import streams
from services.billing.domain.claims import ClaimState, claim_id_for, crossover_batch
from services.billing.domain.events import (
    Adjustment,
    ChargeCreated,
    ChargeLine,
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    ClaimCreated,
    ClaimSubmitted,
)
from services.billing.domain.remittances import RemittanceState, posting_id_for
from services.billing.domain.x12.reader835 import RemittanceFile, read_835
from services.billing.domain.x12.remittance import ProviderAdjustment, Remittance, RemittanceClaim
from shared.events import DomainEvent
from shared.kit import Assembled
from tests.billing_claim_facts import AT, DAY, Facts
from tests.service.conftest import META
from tests.support import wait_until

Built = Assembled[UseCases]
SAMPLES = Path(__file__).parent.parent / "fixtures" / "x12" / "835"
NAMES = sorted(p.name for p in SAMPLES.glob("*.835"))


@pytest.fixture
def facts(billing_service: Built) -> Facts:
    return Facts(billing_service.kit.handler, META)


def ours(file: RemittanceFile) -> RemittanceFile:
    """The file with each line's REF*6R naming a line of our claim (`<CLP01>-<n>`), as a
    payer echoes the 837's: the samples' numbers are other systems'."""

    def claim_of(c: RemittanceClaim) -> RemittanceClaim:
        lines = tuple(
            dataclasses.replace(line, line_item_control_number=f"{c.claim_ref}-{n}")
            for n, line in enumerate(c.lines, start=1)
        )
        return dataclasses.replace(c, lines=lines)

    payments = tuple(
        dataclasses.replace(r, claims=tuple(claim_of(c) for c in r.claims))
        for r in file.remittances
    )
    return dataclasses.replace(file, remittances=payments)


async def submitted_claim(facts: Facts, paid: RemittanceClaim, status: str = "submitted") -> None:
    """A claim of ours, submitted, that the remittance's claim payment pays: its id CLP01, its
    lines the lines paid, its total CLP03."""
    charge_id = f"ch-{paid.claim_ref}"
    lines = tuple(
        ChargeLine(
            line_id=str(n),
            code=line.code,
            units=1,
            diagnosis_pointers=(1,),
            fee_cents=line.charge_cents,
        )
        for n, line in enumerate(paid.lines, start=1)
    ) or (
        ChargeLine(
            line_id="1", code="99213", units=1, diagnosis_pointers=(1,), fee_cents=paid.charge_cents
        ),
    )
    await facts.record(
        streams.charge(facts.tenant, charge_id),
        ChargeCreated(
            charge_id=charge_id,
            appointment_id=charge_id,
            patient_id="pat-1",
            site_id="north",
            provider_id="dr-a",
            date_of_service=DAY,
            diagnoses=("E11.9",),
            lines=lines,
            payer_id="aetna",
            fee_schedule_version=1,
            created_at=AT,
            learnt_from=f"visit-{charge_id}",
        ),
    )
    events: list[DomainEvent] = [
        ClaimCreated(
            claim_id=paid.claim_ref,
            patient_id="pat-1",
            payer_id="aetna",
            coverage_id="cov-pat-1-1",
            priority=1,
            site_id="north",
            provider_id="dr-a",
            charge_ids=(charge_id,),
            total_cents=paid.charge_cents,
            created_at=AT,
        )
    ]
    if status == "submitted":
        events.append(ClaimSubmitted(claim_id=paid.claim_ref, batch_id="B1", submitted_at=AT))
    await facts.record(streams.claim(facts.tenant, paid.claim_ref), *events)


def sample() -> RemittanceFile:
    """The managed-care sample 835, its lines naming ours."""
    return ours(read_835((SAMPLES / "lfh-managed-care.patched.835").read_bytes()))


async def sample_posted(billing_service: Built, facts: Facts) -> RemittanceFile:
    """The sample's claims billed, then the sample taken in and posted."""
    file = sample()
    await claims_paid_by(facts, file)
    await take(billing_service, file)
    return file


async def claims_paid_by(facts: Facts, file: RemittanceFile) -> None:
    made: set[str] = set()
    for payment in file.remittances:
        for paid in payment.claims:
            if paid.claim_ref not in made and not paid.is_reversal:
                made.add(paid.claim_ref)
                await submitted_claim(facts, paid)


async def state_of(built: Built, claim_id: str) -> ClaimState:
    return await built.use_cases.claims.claim_state(META.tenant, claim_id)


async def claim_events(built: Built, claim_id: str) -> list[object]:
    handler = built.kit.handler
    stored = await handler.store.load(streams.claim(META.tenant, claim_id))
    return [handler.registry.decode(e) for e in stored]


async def remittance_of(built: Built, remittance_id: str) -> RemittanceState:
    return await built.use_cases.remittances.remittance(META.tenant, remittance_id)


def net_paid(state: ClaimState) -> int:
    return sum(a.paid_cents for a in state.standing)


async def take(built: Built, file: RemittanceFile, name: str = "f.835") -> list[Receipt]:
    remittances = built.use_cases.remittances
    receipts = await remittances.receive_file(META, file, name, "upload")
    for r in receipts:
        await remittances.post(META, r.remittance_id)
    return receipts


@pytest.mark.parametrize("name", NAMES)
async def test_each_public_sample_posts_and_ties_out_per_claim_and_line(
    billing_service: Built, facts: Facts, name: str
) -> None:
    file = ours(read_835((SAMPLES / name).read_bytes()))
    await claims_paid_by(facts, file)
    receipts = await take(billing_service, file, name)

    remittances = billing_service.use_cases.remittances
    for payment, receipt in zip(file.remittances, receipts, strict=True):
        state = await remittances.remittance(META.tenant, receipt.remittance_id)
        assert state.posted is not None, "the remittance is posted"
        assert not state.pending
        assert state.unmatched == (), [u.reason for u in state.unmatched]
        assert state.posted.posted == len(payment.claims)
        for paid in payment.claims:
            claim_state = await state_of(billing_service, paid.claim_ref)
            posted = claim_state.adjudication
            assert posted is not None
            assert posted.paid_cents == paid.paid_cents
            assert posted.patient_responsibility_cents == paid.patient_responsibility_cents
            assert posted.payer_claim_control_number == paid.payer_claim_control_number
            # claim charge - paid = the adjustments (claim and lines), as posted
            adjusted = sum(a.amount_cents for a in posted.adjustments)
            adjusted += sum(a.amount_cents for line in posted.lines for a in line.adjustments)
            assert claim_state.created is not None
            assert claim_state.created.total_cents - posted.paid_cents == adjusted
            # each line: its charge - paid = its adjustments; lines known by REF*6R
            for line, sent in zip(posted.lines, paid.lines, strict=True):
                assert line.line_id in {"1", "2", "3", "4", "5", "6", "7", "8", "9"}
                line_adjusted = sum(a.amount_cents for a in line.adjustments)
                assert sent.charge_cents - line.paid_cents == line_adjusted
            expected = "denied" if paid.status_code == "4" else posted.outcome
            assert posted.outcome == expected
    # The originals are what payers send (missing PER*BL, a wrong BPR16): posted all the same,
    # with what they got wrong kept as warnings.
    state = await remittances.remittance(META.tenant, receipts[0].remittance_id)
    assert state.received is not None
    assert state.received.warnings == file.warnings
    if name in ("lfh-managed-care.835", "lfh-secondary-payment.835"):
        assert any("PER*BL" in w for w in state.received.warnings)


async def test_the_same_file_twice_posts_nothing_the_second_time(
    billing_service: Built, facts: Facts
) -> None:
    file = sample()
    await claims_paid_by(facts, file)
    first = await take(billing_service, file)
    before = {c.claim_ref: await claim_events(billing_service, c.claim_ref) for c in _claims(file)}
    again = await take(billing_service, file)
    assert [r.remittance_id for r in again] == [r.remittance_id for r in first]
    assert [(r.new, r.claims_added) for r in again] == [(False, 0)]
    for claim_ref, events in before.items():
        assert await claim_events(billing_service, claim_ref) == events
    assert net_paid(await state_of(billing_service, "5554555444")) == 45000


async def test_a_file_split_differently_adds_only_the_claims_not_held(
    billing_service: Built, facts: Facts
) -> None:
    whole = sample()
    await claims_paid_by(facts, whole)
    payment = whole.remittances[0]
    first_half = _payment(whole, dataclasses.replace(payment, claims=payment.claims[:1]))
    (r1,) = await take(billing_service, first_half)
    assert (r1.new, r1.claims_added) == (True, 1)
    (r2,) = await take(billing_service, whole)  # the same payment, every claim this time
    assert (r2.remittance_id, r2.new, r2.claims_added) == (r1.remittance_id, False, 1)
    state = await remittance_of(billing_service, r1.remittance_id)
    assert len(state.claims) == 2
    assert state.posted is not None
    assert (state.posted.posted, state.posted.already_posted) == (2, 0)
    for paid in payment.claims:
        events = await claim_events(billing_service, paid.claim_ref)
        assert sum(isinstance(e, ClaimAdjudicated) for e in events) == 1


async def test_a_claim_payment_repeated_in_another_file_is_found_posted(
    billing_service: Built, facts: Facts
) -> None:
    file = await sample_posted(billing_service, facts)
    payment = file.remittances[0]
    other = _payment(file, dataclasses.replace(payment, trace_number="ANOTHER-EFT"))
    (receipt,) = await take(billing_service, other)
    assert receipt.new
    state = await remittance_of(billing_service, receipt.remittance_id)
    assert state.posted is not None
    assert (state.posted.posted, state.posted.already_posted) == (0, 2)
    assert net_paid(await state_of(billing_service, "8765432112")) == 49500


async def test_a_payment_then_its_reversal_then_a_correction_nets_the_correction(
    billing_service: Built, facts: Facts
) -> None:
    file = await sample_posted(billing_service, facts)
    payment = file.remittances[0]
    paid = payment.claims[0]  # 5554555444: charge 800, paid 450, patient 300
    reversal = _reversal_of(paid)
    correction = dataclasses.replace(
        paid,
        paid_cents=50000,
        patient_responsibility_cents=30000,
        adjustments=(),
        payer_claim_control_number="94060555410001",
    )
    # Reversal and correction in one later payment (the payer's way), and the pair sent again
    # in yet another file: the second time, nothing.
    for trace in ("EFT-2", "EFT-3"):
        later = dataclasses.replace(
            payment, trace_number=trace, claims=(reversal, correction), payment_cents=5000
        )
        await take(billing_service, _payment(file, later))
        state = await state_of(billing_service, paid.claim_ref)
        assert net_paid(state) == 50000
        assert state.status == "paid"
    events = await claim_events(billing_service, paid.claim_ref)
    reversals = [e for e in events if isinstance(e, ClaimAdjudicationReversed)]
    assert len(reversals) == 1
    assert reversals[0].paid_cents == 45000
    assert sum(isinstance(e, ClaimAdjudicated) for e in events) == 2


async def test_a_reversal_alone_makes_the_claim_adjudicable_again(
    billing_service: Built, facts: Facts
) -> None:
    file = await sample_posted(billing_service, facts)
    payment = file.remittances[0]
    paid = payment.claims[1]
    back = dataclasses.replace(
        payment, trace_number="EFT-R", claims=(_reversal_of(paid),), payment_cents=-49500
    )
    await take(billing_service, _payment(file, back))
    state = await state_of(billing_service, paid.claim_ref)
    assert (state.status, net_paid(state), state.standing) == ("accepted", 0, ())


async def test_what_matches_no_claim_waits_unmatched_with_its_reason(
    billing_service: Built, facts: Facts
) -> None:
    file = sample()
    first, second = file.remittances[0].claims
    await submitted_claim(facts, dataclasses.replace(first, charge_cents=79900))  # billed 799
    # `second` is no claim of ours
    (receipt,) = await take(billing_service, file)
    state = await remittance_of(billing_service, receipt.remittance_id)
    assert state.posted is not None
    assert (state.posted.posted, state.posted.unmatched) == (0, 2)
    reasons = {u.claim_ref: u.reason for u in state.unmatched}
    assert "billed 79900" in reasons[first.claim_ref]
    assert "no claim 8765432112" in reasons[second.claim_ref]
    # Taken again: still two, recorded once each.
    await take(billing_service, file)
    state = await remittance_of(billing_service, receipt.remittance_id)
    assert len(state.unmatched) == 2


async def test_a_draft_claim_does_not_take_a_payment(billing_service: Built, facts: Facts) -> None:
    file = ours(read_835((SAMPLES / "lfh-cob-contractual-adjustment.patched.835").read_bytes()))
    (paid,) = file.remittances[0].claims
    await submitted_claim(facts, paid, status="draft")
    (receipt,) = await take(billing_service, file)
    state = await remittance_of(billing_service, receipt.remittance_id)
    assert [u.reason for u in state.unmatched] == [
        f"claim {paid.claim_ref} is draft: it cannot take a payment"
    ]


async def test_a_posting_cut_short_resumes_without_posting_twice(
    billing_service: Built, facts: Facts
) -> None:
    file = ours(read_835((SAMPLES / "edi835parser-uhc.patched.835").read_bytes()))
    await claims_paid_by(facts, file)
    remittances = billing_service.use_cases.remittances
    (receipt,) = await remittances.receive_file(META, file, "f.835", "upload")
    state = await remittances.remittance(META.tenant, receipt.remittance_id)
    # The first claim posted, then the process died: no RemittancePosted yet.
    first = state.claims[0]
    await billing_service.use_cases.claims.post_remitted(
        META,
        posting_id=posting_id_for(receipt.remittance_id, 0),
        remittance_id=receipt.remittance_id,
        remitted=first,
        paid_on=datetime(2021, 2, 4, tzinfo=UTC).date(),
    )
    assert (await remittances.remittance(META.tenant, receipt.remittance_id)).pending
    done = await remittances.post(META, receipt.remittance_id)
    assert done.posted is not None
    assert (done.posted.posted, done.posted.already_posted) == (len(state.claims), 0)
    for paid in state.claims:
        events = await claim_events(billing_service, paid.claim_ref)
        assert sum(isinstance(e, ClaimAdjudicated) for e in events) == 1


async def test_provider_adjustments_post_to_the_account_once(
    billing_service: Built, facts: Facts
) -> None:
    file = sample()
    payment = file.remittances[0]
    plbs = (
        ProviderAdjustment("1234567893", DAY, "L6", "INTEREST", -125),
        ProviderAdjustment("1234567893", DAY, "WO", "94060555410000", 5000),
    )
    file = _payment(file, dataclasses.replace(payment, provider_adjustments=plbs))
    await claims_paid_by(facts, file)
    (receipt,) = await take(billing_service, file)
    await take(billing_service, file)
    account = await billing_service.use_cases.provider_accounts.account(META.tenant, "1234567893")
    assert [a.amount_cents for a in account.adjustments] == [-125, 5000]
    assert account.balance_cents == 4875
    state = await remittance_of(billing_service, receipt.remittance_id)
    assert state.posted is not None
    assert state.posted.provider_adjustments == 2


def _claims(file: RemittanceFile) -> list[RemittanceClaim]:
    return [c for r in file.remittances for c in r.claims]


def _payment(file: RemittanceFile, payment: Remittance) -> RemittanceFile:
    return dataclasses.replace(file, remittances=(payment,))


def _reversal_of(paid: RemittanceClaim) -> RemittanceClaim:
    return dataclasses.replace(
        paid,
        status_code="22",
        charge_cents=-paid.charge_cents,
        paid_cents=-paid.paid_cents,
        patient_responsibility_cents=-paid.patient_responsibility_cents,
        adjustments=tuple(
            a.model_copy(update={"amount_cents": -a.amount_cents}) for a in paid.adjustments
        ),
        lines=(),
    )


async def test_a_claim_the_primary_forwarded_is_not_sent_and_takes_the_secondarys_payment(
    billing_service: Built, facts: Facts
) -> None:
    await facts.clinic("north", "aetna", "bcbs")
    await facts.patient("pat-9")
    await facts.coverage("pat-9", "aetna")
    await facts.coverage("pat-9", "bcbs", priority=2)
    await facts.charge("appt-9", "pat-9")
    claims = billing_service.use_cases.claims
    primary_id = claim_id_for("appt-9")
    secondary_id = claim_id_for("appt-9", "2")

    async def made(claim_id: str, status: str) -> bool:
        stream = streams.claim(META.tenant, claim_id)
        if not await claims.stream_version(stream):
            return False
        return (await claims.claim_state(META.tenant, claim_id)).status == status

    await wait_until(lambda: made(primary_id, "ready"), message="the primary claim ready")
    await facts.record(
        streams.claim(META.tenant, primary_id),
        ClaimSubmitted(claim_id=primary_id, batch_id="B9", submitted_at=AT),
    )
    lines = [
        payer.Billed(f"{primary_id}-1", "99213", 12000),
        payer.Billed(f"{primary_id}-2", "36415", 3000),
    ]
    forwarded = payer.paid_claim(primary_id, lines, status="19")  # paid, and sent on to bcbs
    await take(billing_service, _file(payer.payment([forwarded], trace="EFT-P")))
    await wait_until(lambda: made(secondary_id, "submitted"), message="the crossover claim")
    secondary = await claims.claim_state(META.tenant, secondary_id)
    assert secondary.batch_id == crossover_batch(primary_id)
    # Never put in a claim file: it is no ready claim.
    files = billing_service.use_cases.claim_files
    assert await files.create_files(META, candidates=[secondary_id]) == []

    # bcbs pays what is left, naming the claim as the primary forwarded it (CLP02 2).
    rest = payer.paid_claim(primary_id, lines, status="2", allowed_percent=100, copay_cents=0)
    rest = dataclasses.replace(rest, paid_cents=2000, lines=(), payer_claim_control_number="BCBS-1")
    rest = dataclasses.replace(
        rest, adjustments=(Adjustment(group="OA", reason="23", amount_cents=13000),)
    )
    # Sent by aetna, it is not posted: the secondary claim was billed to bcbs.
    (wrong,) = await take(billing_service, _file(payer.payment([rest], trace="EFT-W")))
    state = await remittance_of(billing_service, wrong.remittance_id)
    assert [u.reason for u in state.unmatched] == [
        f"claim {secondary_id} was billed to bcbs, not aetna"
    ]
    check = payer.payment([rest], trace="EFT-S", payer_x12_id="BCBS01")
    (receipt,) = await take(billing_service, _file(check))
    state = await remittance_of(billing_service, receipt.remittance_id)
    assert state.posted is not None
    assert (state.posted.posted, state.unmatched) == (1, ())
    paid_secondary = await claims.claim_state(META.tenant, secondary_id)
    assert paid_secondary.adjudication is not None
    assert paid_secondary.adjudication.paid_cents == 2000
    primary = await claims.claim_state(META.tenant, primary_id)
    assert net_paid(primary) == forwarded.paid_cents  # the primary's posting untouched


def _file(check: Remittance) -> RemittanceFile:
    return RemittanceFile(remittances=(check,), warnings=(), digest="0" * 64)
