"""A claim's lifecycle, given events, when a command, then events: made (ready, or draft with
its problems), checked again, submitted, accepted or rejected, adjudicated, appealed, written
off, replaced or voided; every illegal step refused (409). And the parts a claim file reads:
deterministic claim ids, addresses, names, sex codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.billing.domain.claims import (
    AcceptClaim,
    AdjudicateClaim,
    AppealClaim,
    CheckClaim,
    ClaimCommand,
    ClaimState,
    CreateClaim,
    RejectClaim,
    ReplaceClaim,
    SubmitClaim,
    WriteOffClaim,
    claim,
    claim_id_for,
    parse_address,
    sex_code,
    split_name,
)
from services.billing.domain.events import (
    Adjustment,
    ClaimAccepted,
    ClaimAdjudicated,
    ClaimAppealed,
    ClaimCreated,
    ClaimNotReady,
    ClaimReady,
    ClaimRejected,
    ClaimReplaced,
    ClaimSubmitted,
    ClaimWrittenOff,
    PostalAddress,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
CLAIM_ID = claim_id_for("appt-1")
CREATED = ClaimCreated(
    claim_id=CLAIM_ID,
    patient_id="pat-1",
    payer_id="aetna",
    coverage_id="cov-1",
    priority=1,
    site_id="north",
    provider_id="dr-a",
    charge_ids=("appt-1",),
    total_cents=15000,
    created_at=NOW,
)
READY = ClaimReady(claim_id=CLAIM_ID, ready_at=NOW)
SUBMITTED = ClaimSubmitted(claim_id=CLAIM_ID, batch_id="b-1", submitted_at=NOW)
ACCEPTED = ClaimAccepted(claim_id=CLAIM_ID, accepted_at=NOW)
REJECTED = ClaimRejected(claim_id=CLAIM_ID, reasons=("A7:21 missing NPI",), rejected_at=NOW)
DENIED = ClaimAdjudicated(
    claim_id=CLAIM_ID,
    outcome="denied",
    paid_cents=0,
    patient_responsibility_cents=0,
    payer_claim_control_number="PCN-1",
    adjustments=(Adjustment(group="CO", reason="50", amount_cents=15000),),
    adjudicated_on=date(2026, 11, 20),
    recorded_at=NOW,
)
PARTLY = DENIED.model_copy(
    update={"outcome": "partially_paid", "paid_cents": 9000, "adjustments": ()}
)
PAID = DENIED.model_copy(update={"outcome": "paid", "paid_cents": 15000, "adjustments": ()})
APPEALED = ClaimAppealed(claim_id=CLAIM_ID, reason="medically necessary", appealed_at=NOW)
WRITTEN_OFF = ClaimWrittenOff(claim_id=CLAIM_ID, reason="x", amount_cents=6000, written_off_at=NOW)
REPLACED = ClaimReplaced(claim_id=CLAIM_ID, by_claim_id="C2", frequency="7", replaced_at=NOW)


def given(*events: DomainEvent) -> ClaimState:
    return claim.fold(events)


def when(state: ClaimState, command: ClaimCommand) -> Sequence[DomainEvent]:
    return claim.decide(state, command)


def adjudicate(**changes: object) -> AdjudicateClaim:
    fields: dict[str, object] = {
        "claim_id": CLAIM_ID,
        "outcome": "partially_paid",
        "paid_cents": 9000,
        "patient_responsibility_cents": 2000,
        "payer_claim_control_number": "PCN-1",
        "adjustments": (Adjustment(group="CO", reason="45", amount_cents=4000),),
        "adjudicated_on": date(2026, 11, 20),
        "recorded_at": NOW,
    }
    return AdjudicateClaim.model_validate({**fields, **changes})


CHECK = CheckClaim(claim_id=CLAIM_ID, problems=(), checked_at=NOW)
SUBMIT = SubmitClaim(claim_id=CLAIM_ID, batch_id="b-1", submitted_at=NOW)
ACCEPT = AcceptClaim(claim_id=CLAIM_ID, accepted_at=NOW)
REJECT = RejectClaim(claim_id=CLAIM_ID, reasons=("A7:21 missing NPI",), rejected_at=NOW)
APPEAL = AppealClaim(claim_id=CLAIM_ID, reason="medically necessary", appealed_at=NOW)
WRITE_OFF = WriteOffClaim(claim_id=CLAIM_ID, reason="too small to chase", written_off_at=NOW)
REPLACE = ReplaceClaim(claim_id=CLAIM_ID, by_claim_id="C2", frequency="7", replaced_at=NOW)
VOID = ReplaceClaim(claim_id=CLAIM_ID, by_claim_id="C3", frequency="8", replaced_at=NOW)


# ----------------------------------------------------------------------------- ids


def test_a_claim_id_is_stable_short_and_apart_per_payer_and_replacement() -> None:
    assert claim_id_for("appt-1") == claim_id_for("appt-1")
    assert len(claim_id_for("a" * 64)) == 20
    assert claim_id_for("appt-1").isalnum()
    ids = {claim_id_for("appt-1"), claim_id_for("appt-1", "2"), claim_id_for(CLAIM_ID, "7")}
    assert len(ids) == 3


# ----------------------------------------------------------------------------- the happy path


def test_a_claim_that_passes_its_checks_is_ready_at_once() -> None:
    assert when(given(), CreateClaim(claim=CREATED, problems=())) == [CREATED, READY]


def test_a_claim_with_problems_stays_draft_with_them_listed() -> None:
    events = when(given(), CreateClaim(claim=CREATED, problems=("payer aetna not defined",)))
    assert events == [
        CREATED,
        ClaimNotReady(claim_id=CLAIM_ID, problems=("payer aetna not defined",), checked_at=NOW),
    ]
    state = given(*events)
    assert (state.status, state.problems) == ("draft", ("payer aetna not defined",))


def test_making_a_claim_twice_records_nothing_the_second_time() -> None:
    assert when(given(CREATED, READY), CreateClaim(claim=CREATED, problems=())) == []


def test_a_draft_checked_again_is_ready_when_nothing_is_missing_any_more() -> None:
    draft = ClaimNotReady(claim_id=CLAIM_ID, problems=("p",), checked_at=NOW)
    assert when(given(CREATED, draft), CHECK) == [READY]
    assert when(given(CREATED, draft), CHECK.model_copy(update={"problems": ("p",)})) == []
    changed = when(given(CREATED, draft), CHECK.model_copy(update={"problems": ("q",)}))
    assert changed == [ClaimNotReady(claim_id=CLAIM_ID, problems=("q",), checked_at=NOW)]


def test_a_ready_claim_whose_checks_fail_again_goes_back_to_draft() -> None:
    assert when(given(CREATED, READY), CHECK) == []  # still ready: nothing to record
    gone_bad = CHECK.model_copy(update={"problems": ("not enrolled",)})
    [not_ready] = when(given(CREATED, READY), gone_bad)
    assert not_ready == ClaimNotReady(claim_id=CLAIM_ID, problems=("not enrolled",), checked_at=NOW)
    state = given(CREATED, READY, not_ready)
    assert (state.status, state.problems) == ("draft", ("not enrolled",))
    assert when(state, CHECK) == [READY]  # and ready again once it is fixed


def test_submitted_accepted_adjudicated() -> None:
    assert when(given(CREATED, READY), SUBMIT) == [SUBMITTED]
    assert when(given(CREATED, READY, SUBMITTED), ACCEPT) == [ACCEPTED]
    [adjudicated] = when(given(CREATED, READY, SUBMITTED, ACCEPTED), adjudicate())
    assert isinstance(adjudicated, ClaimAdjudicated)
    assert given(CREATED, READY, SUBMITTED, ACCEPTED, adjudicated).status == "partially_paid"


def test_a_payer_may_adjudicate_without_a_277ca_acceptance() -> None:
    assert when(given(CREATED, READY, SUBMITTED), adjudicate(outcome="denied", paid_cents=0))


def test_a_rejected_claim_corrected_is_made_ready_again_and_submitted_anew() -> None:
    rejected = given(CREATED, READY, SUBMITTED, REJECTED)
    assert rejected.reasons == ("A7:21 missing NPI",)
    assert when(rejected, CHECK) == [READY]
    again = given(CREATED, READY, SUBMITTED, REJECTED, READY)
    assert when(again, SUBMIT.model_copy(update={"batch_id": "b-2"}))


def test_a_denial_is_appealed_and_adjudicated_again() -> None:
    assert when(given(CREATED, READY, SUBMITTED, DENIED), APPEAL) == [APPEALED]
    assert when(given(CREATED, READY, SUBMITTED, DENIED, APPEALED), adjudicate())


def test_writing_off_gives_up_what_is_left() -> None:
    [written] = when(given(CREATED, READY, SUBMITTED, PARTLY), WRITE_OFF)
    assert isinstance(written, ClaimWrittenOff)
    assert written.amount_cents == 6000


def test_a_write_off_leaves_out_what_the_adjudication_took_off_already() -> None:
    """The payer's adjustments and the patient's share are off the claim's insurance balance
    at adjudication (as receivables carry it): a write-off gives up only the rest, so the
    balance ends at zero, not below. A denial's adjustments stay owed until written off."""
    adjusted = PARTLY.model_copy(
        update={
            "patient_responsibility_cents": 1000,
            "adjustments": (
                Adjustment(group="CO", reason="45", amount_cents=2000),
                Adjustment(group="PR", reason="2", amount_cents=1000),
            ),
        }
    )
    [written] = when(given(CREATED, READY, SUBMITTED, adjusted), WRITE_OFF)
    assert isinstance(written, ClaimWrittenOff)
    assert written.amount_cents == 15000 - 9000 - 2000 - 1000
    [all_of_it] = when(given(CREATED, READY, SUBMITTED, DENIED), WRITE_OFF)
    assert isinstance(all_of_it, ClaimWrittenOff)
    assert all_of_it.amount_cents == 15000


def test_replacing_and_voiding_need_the_payers_claim_control_number() -> None:
    adjudicated = given(CREATED, READY, SUBMITTED, PAID)
    assert when(adjudicated, REPLACE) == [REPLACED]
    assert given(CREATED, READY, SUBMITTED, PAID, REPLACED).status == "resubmitted"
    [void] = when(adjudicated, VOID)
    assert given(CREATED, READY, SUBMITTED, PAID, void).status == "voided"
    assert when(given(CREATED, READY, SUBMITTED, PAID, REPLACED), REPLACE) == []  # a retry


def test_a_claim_accepted_with_the_payers_number_may_be_voided() -> None:
    numbered = ACCEPTED.model_copy(update={"payer_claim_control_number": "PCN-9"})
    state = given(CREATED, READY, SUBMITTED, numbered)
    assert state.payer_claim_control_number == "PCN-9"
    assert when(state, VOID) == [
        ClaimReplaced(claim_id=CLAIM_ID, by_claim_id="C3", frequency="8", replaced_at=NOW)
    ]


def test_the_same_answer_read_twice_records_nothing() -> None:
    assert when(given(CREATED, READY, SUBMITTED, ACCEPTED), ACCEPT) == []
    assert when(given(CREATED, READY, SUBMITTED, REJECTED), REJECT) == []
    assert when(given(CREATED, READY, SUBMITTED), SUBMIT) == []


# ----------------------------------------------------------------------------- refusals

NOT_READY = ClaimNotReady(claim_id=CLAIM_ID, problems=("p",), checked_at=NOW)
SUBMIT_ELSEWHERE = SUBMIT.model_copy(update={"batch_id": "b-9"})
ILLEGAL: list[tuple[str, tuple[DomainEvent, ...], ClaimCommand]] = [
    ("submit a draft", (CREATED, NOT_READY), SUBMIT),
    ("submit an accepted claim", (CREATED, READY, SUBMITTED, ACCEPTED), SUBMIT),
    ("submit into another batch", (CREATED, READY, SUBMITTED), SUBMIT_ELSEWHERE),
    ("accept a ready claim", (CREATED, READY), ACCEPT),
    ("accept a rejected claim", (CREATED, READY, SUBMITTED, REJECTED), ACCEPT),
    ("reject a ready claim", (CREATED, READY), REJECT),
    ("reject a paid claim", (CREATED, READY, SUBMITTED, PAID), REJECT),
    ("adjudicate a draft", (CREATED,), adjudicate()),
    ("adjudicate a ready claim", (CREATED, READY), adjudicate()),
    ("adjudicate twice", (CREATED, READY, SUBMITTED, PAID), adjudicate()),
    ("adjudicate a rejected claim", (CREATED, READY, SUBMITTED, REJECTED), adjudicate()),
    ("appeal a paid claim", (CREATED, READY, SUBMITTED, PAID), APPEAL),
    ("appeal a submitted claim", (CREATED, READY, SUBMITTED), APPEAL),
    ("appeal twice", (CREATED, READY, SUBMITTED, DENIED, APPEALED), APPEAL),
    ("write off a ready claim", (CREATED, READY), WRITE_OFF),
    ("write off a paid claim", (CREATED, READY, SUBMITTED, PAID), WRITE_OFF),
    ("write off twice", (CREATED, READY, SUBMITTED, DENIED, WRITTEN_OFF), WRITE_OFF),
    ("make a submitted claim ready", (CREATED, READY, SUBMITTED), CHECK),
    ("make a paid claim ready", (CREATED, READY, SUBMITTED, PAID), CHECK),
    ("replace a submitted claim (no payer number yet)", (CREATED, READY, SUBMITTED), REPLACE),
    ("void an accepted claim (no payer number yet)", (CREATED, READY, SUBMITTED, ACCEPTED), VOID),
    ("replace a draft", (CREATED,), REPLACE),
    ("replace a written-off claim", (CREATED, READY, SUBMITTED, DENIED, WRITTEN_OFF), REPLACE),
    ("void a replaced claim", (CREATED, READY, SUBMITTED, PAID, REPLACED), VOID),
    ("adjudicate a voided claim", (CREATED, READY, SUBMITTED, PAID, REPLACED), adjudicate()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("history", "command"), [(h, c) for _, h, c in ILLEGAL], ids=[n for n, _, _ in ILLEGAL]
)
def test_every_illegal_step_is_refused(
    history: tuple[DomainEvent, ...], command: ClaimCommand
) -> None:
    with pytest.raises(Rejected):
        when(given(*history), command)


def test_a_step_on_a_claim_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(NotFound):
        when(given(), SUBMIT)


@pytest.mark.parametrize(
    "changes",
    [
        {"paid_cents": 20000},  # more than billed
        {"paid_cents": -1},
        {"outcome": "denied", "paid_cents": 100},
        {"outcome": "paid", "paid_cents": 0},
        {"payer_claim_control_number": " "},
    ],
)
def test_an_adjudication_that_makes_no_sense_is_invalid(changes: dict[str, object]) -> None:
    with pytest.raises(Invalid):
        when(given(CREATED, READY, SUBMITTED), adjudicate(**changes))


def test_a_claim_of_nothing_or_with_a_long_id_is_invalid() -> None:
    with pytest.raises(Invalid):
        when(given(), CreateClaim(claim=CREATED.model_copy(update={"total_cents": 0}), problems=()))
    long_id = CREATED.model_copy(update={"claim_id": "x" * 21})
    with pytest.raises(Invalid):
        when(given(), CreateClaim(claim=long_id, problems=()))


# ----------------------------------------------------------------------------- claim parts


MAIN_ST = PostalAddress(line1="12 Main St", city="Springfield", state="IL", postal_code="62701")
APT_4 = MAIN_ST.model_copy(update={"line2": "Apt 4", "postal_code": "627011234"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 Main St, Springfield, IL 62701", MAIN_ST),
        ("12 Main St, Apt 4, Springfield, il 62701-1234", APT_4),
        ("12 Main St Springfield IL 62701", None),
        ("12 Main St, Springfield, Illinois 62701", None),
        ("12 Main St, Springfield, IL 627", None),
        ("12 Main St, , IL 62701", None),
        ("", None),
    ],
)  # fmt: skip
def test_a_free_text_address_is_read_as_n3_n4_or_not_at_all(
    text: str, expected: PostalAddress | None
) -> None:
    assert parse_address(text) == expected


def test_names_split_into_last_first_middle_and_sex_codes() -> None:
    assert split_name("Ada Lovelace") == ("Lovelace", "Ada", "")
    assert split_name("Ada Byron King") == ("King", "Ada", "Byron")
    assert split_name("Lovelace, Ada B") == ("Lovelace", "Ada", "B")
    assert split_name("Cher") == ("Cher", "", "")
    assert [sex_code(s) for s in ("female", "Male", "other", "unknown", "")] == list("FMUUU")
