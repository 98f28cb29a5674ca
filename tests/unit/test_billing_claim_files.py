"""The tenant's claim files, given events, when a command, then events: control numbers unique
and increasing (nine digits at most), a claim never in two open files, sent once, acknowledged
once; a file written with numbers another took first is `Stale` (written again)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.billing.domain.claim_files import (
    MAX_CONTROL_NUMBER,
    AcknowledgeBatch,
    ClaimFiles,
    CreateBatch,
    MarkBatchSent,
    Stale,
    claim_files,
)
from services.billing.domain.events import (
    BatchSubmitter,
    ClaimBatchAcknowledged,
    ClaimBatchCreated,
    ClaimBatchSent,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SUBMITTER = BatchSubmitter(
    id="S1", name="Group", contact_name="Office", contact_phone="5555550100",
    receiver_id="R1", receiver_name="House",
)  # fmt: skip


def create(batch_id: str, claims: tuple[str, ...], number: int = 1) -> CreateBatch:
    return CreateBatch(
        batch_id=batch_id,
        payer_id="aetna",
        interchange_control_number=number,
        group_control_number=number,
        claim_ids=claims,
        usage="T",
        created_at=NOW,
        digest="ab" * 32,
        sources=(),
        submitter=SUBMITTER,
    )


def created(batch_id: str, claims: tuple[str, ...], number: int = 1) -> ClaimBatchCreated:
    return ClaimBatchCreated(**create(batch_id, claims, number).model_dump())


SENT = ClaimBatchSent(batch_id="b-1", file_name="b-1.837", sent_at=NOW)
ACKED = ClaimBatchAcknowledged(batch_id="b-1", code="R", errors=("IK5*R",), acknowledged_at=NOW)


def given(*events: DomainEvent) -> ClaimFiles:
    return claim_files.fold(events)


def test_the_first_file_takes_control_number_one_and_the_next_two() -> None:
    assert given().next_numbers() == (1, 1)
    assert claim_files.decide(given(), create("b-1", ("C1",))) == [created("b-1", ("C1",))]
    assert given(created("b-1", ("C1",))).next_numbers() == (2, 2)


def test_a_file_written_with_numbers_another_took_is_stale() -> None:
    with pytest.raises(Stale):
        claim_files.decide(given(created("b-1", ("C1",))), create("b-2", ("C2",), number=1))


def test_a_claim_in_an_open_file_is_refused_for_another() -> None:
    with pytest.raises(Rejected, match="C1"):
        claim_files.decide(given(created("b-1", ("C1",))), create("b-2", ("C2", "C1"), number=2))


def test_once_its_file_is_acknowledged_a_claim_may_go_in_a_new_one() -> None:
    state = given(created("b-1", ("C1",)), SENT, ACKED)
    assert claim_files.decide(state, create("b-2", ("C1",), number=2))


def test_control_numbers_stop_at_nine_digits() -> None:
    last = created("b-1", ("C1",), number=MAX_CONTROL_NUMBER)
    with pytest.raises(Rejected, match="used up"):
        claim_files.decide(given(last), create("b-2", ("C2",), number=MAX_CONTROL_NUMBER + 1))


def test_a_file_of_no_claims_or_a_claim_twice_is_invalid() -> None:
    with pytest.raises(Invalid):
        claim_files.decide(given(), create("b-1", ()))
    with pytest.raises(Invalid):
        claim_files.decide(given(), create("b-1", ("C1", "C1")))


def test_a_file_is_sent_once_and_acknowledged_once_after_it_was_sent() -> None:
    send = MarkBatchSent(batch_id="b-1", file_name="b-1.837", sent_at=NOW)
    ack = AcknowledgeBatch(batch_id="b-1", code="R", errors=("IK5*R",), acknowledged_at=NOW)
    state = given(created("b-1", ("C1",)))
    with pytest.raises(Rejected, match="never sent"):
        claim_files.decide(state, ack)
    assert claim_files.decide(state, send) == [SENT]
    assert claim_files.decide(given(created("b-1", ("C1",)), SENT), send) == []  # a retry
    other = send.model_copy(update={"file_name": "other.837"})
    with pytest.raises(Rejected, match="sent already"):
        claim_files.decide(given(created("b-1", ("C1",)), SENT), other)
    assert claim_files.decide(given(created("b-1", ("C1",)), SENT), ack) == [ACKED]
    assert claim_files.decide(given(created("b-1", ("C1",)), SENT, ACKED), ack) == []
    accepted = ack.model_copy(update={"code": "A"})
    with pytest.raises(Rejected, match="acknowledged already"):
        claim_files.decide(given(created("b-1", ("C1",)), SENT, ACKED), accepted)


def test_a_file_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(NotFound):
        claim_files.decide(given(), MarkBatchSent(batch_id="b-9", file_name="x", sent_at=NOW))
