"""999 and 277CA: what we write passes pyx12 and reads back the same; what clearinghouses
write (other separators, further statuses, line-level statuses) reads as they meant it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.billing.domain.x12.acks import (
    ClaimAcknowledgement,
    ElementError,
    FileAcknowledgement,
    SegmentError,
    StatusReason,
    TransactionAcknowledgement,
    acknowledgement_of,
    read_277ca,
    read_999,
    read_999s,
    reason,
    reply_envelope,
    write_277ca,
    write_999,
)
from services.billing.domain.x12.envelope import Envelope
from services.billing.domain.x12.segments import X12ValueError, tokenise
from services.billing.domain.x12.writer837 import write_837
from tests.x12_checks import assert_valid_x12
from tests.x12_samples import OTHER_SITE, claim, claim_file, dependant_claim, secondary_claim

FILE = claim_file(
    claim("C1"),
    dependant_claim("C2"),
    secondary_claim("C3"),
    claim("C4", billing_provider=OTHER_SITE),
)
ENVELOPE = reply_envelope(
    FILE,
    interchange_control_number=5001,
    group_control_number=5001,
    created_at=datetime(2026, 11, 26, 10, 0),  # noqa: DTZ001 - the clearinghouse's wall time
)
RECEIVED = date(2026, 11, 26)


# --------------------------------------------------------------------------------------- 999


def test_an_accepting_999_for_our_837_passes_pyx12_and_reads_back() -> None:
    ack = acknowledgement_of(write_837(FILE))
    assert ack == FileAcknowledgement(
        group_control_number=42,
        code="A",
        transactions=(TransactionAcknowledgement(set_control_number="0001", code="A"),),
    )
    text = write_999(ack, ENVELOPE)
    assert_valid_x12(text)
    assert read_999(text) == ack
    assert read_999(text).accepted


def test_a_rejecting_999_carries_its_errors() -> None:
    ack = FileAcknowledgement(
        group_control_number=42,
        code="R",
        transactions=(
            TransactionAcknowledgement(
                set_control_number="0001",
                code="R",
                errors=(
                    SegmentError("CLM", 21, "2300", "8", (ElementError("2", "782", "7", "ABC"),)),
                    SegmentError("NM1", 9, "2010", "8", (ElementError("9", "67", "7"),)),
                    SegmentError("ZZZ", 30, "", "1"),
                ),
                set_errors=("5",),
            ),
        ),
        errors=("2",),
    )
    text = write_999(ack, ENVELOPE)
    assert_valid_x12(text)
    read = read_999(text)
    assert read == ack
    assert not read.accepted
    assert ("IK4", "2", "782", "7", "ABC") in tokenise(text)[1]


def test_accepted_with_errors_is_accepted() -> None:
    ack = acknowledgement_of(write_837(FILE), code="E")
    assert read_999(write_999(ack, ENVELOPE)).accepted


def test_a_999_as_a_clearinghouse_writes_it() -> None:
    text = (
        "ISA|00|          |00|          |ZZ|CLEARING       |ZZ|RMG0001        |261126|1015|}|"
        "00501|000000777|0|P|>\r\n"
        "GS|FA|CLEARING|RMG0001|20261126|1015|777|X|005010X231A1\r\n"
        "ST|999|0001|005010X231A1\r\n"
        "AK1|HC|42|005010X222A1\r\n"
        "AK2|837|0001|005010X222A1\r\n"
        "IK3|NM1|12|2010BA|8\r\n"
        "IK4|9|67|1\r\n"
        "CTX|CLM01:C1\r\n"
        "IK5|R|I5\r\n"
        "AK9|R|1|1|0\r\n"
        "SE|9|0001\r\nGE|1|777\r\nIEA|1|000000777\r\n"
    )
    ack = read_999(text)
    assert ack.group_control_number == 42
    assert ack.code == "R"
    (tx,) = ack.transactions
    assert tx.set_errors == ("I5",)
    assert tx.errors == (SegmentError("NM1", 12, "2010BA", "8", (ElementError("9", "67", "1"),)),)


def test_several_groups_acknowledged_in_one_file() -> None:
    one = write_999(
        FileAcknowledgement(41, "A", (TransactionAcknowledgement("0001", "A"),)), ENVELOPE
    )
    two = write_999(
        FileAcknowledgement(42, "R", (TransactionAcknowledgement("0001", "R"),)), ENVELOPE
    )

    def body(text: str) -> str:
        return text[text.index("ST*") : text.index("GE*")]

    both = one[: one.index("ST*")] + body(one) + body(two) + one[one.index("GE*") :]
    assert [a.group_control_number for a in read_999s(both)] == [41, 42]
    with pytest.raises(X12ValueError, match="2 groups"):
        read_999(both)


@pytest.mark.parametrize(
    "content",
    [
        write_837(FILE),  # an 837 is not a 999
        write_999(FileAcknowledgement(42, "A"), ENVELOPE).replace("AK9*A", "AK9*X"),
        write_999(FileAcknowledgement(42, "A"), ENVELOPE).replace("AK1*HC*42", "AK1*HC*4X"),
    ],
)
def test_what_is_not_a_999_is_refused(content: str) -> None:
    with pytest.raises(X12ValueError):
        read_999(content)


def test_a_999_whose_group_code_contradicts_its_sets_is_not_written() -> None:
    for group, sets in (("A", ("R",)), ("R", ("A",)), ("A", ("E",)), ("A", ("A", "R"))):
        transactions = tuple(TransactionAcknowledgement(f"000{n}", c) for n, c in enumerate(sets))
        with pytest.raises(X12ValueError, match="contradicts"):
            write_999(FileAcknowledgement(42, group, transactions), ENVELOPE)
    mixed = (TransactionAcknowledgement("0001", "A"), TransactionAcknowledgement("0002", "R"))
    assert read_999(write_999(FileAcknowledgement(42, "P", mixed), ENVELOPE)).code == "P"


def test_a_999_with_a_code_that_does_not_exist_is_not_written() -> None:
    with pytest.raises(X12ValueError):
        write_999(FileAcknowledgement(42, "X"), ENVELOPE)
    with pytest.raises(X12ValueError):
        write_999(
            FileAcknowledgement(42, "A", (TransactionAcknowledgement("0001", "P"),)), ENVELOPE
        )


# ------------------------------------------------------------------------------------- 277CA

ACKS = (
    ClaimAcknowledgement("C1", True, "PAYER0001"),
    ClaimAcknowledgement(
        "C2",
        False,
        None,
        (reason("A7", "33", "IL"), StatusReason("A7", "21", "MEMBER ID NOT ON FILE", "IL")),
    ),
    ClaimAcknowledgement(
        "C3", True, "PAYER0003", (reason("A1", "19", "PR"), reason("A2", "20", "PR"))
    ),
    ClaimAcknowledgement("C4", False, None, (reason("A6", "562", "85"),)),
)


def test_a_277ca_for_our_claims_passes_pyx12_and_reads_back() -> None:
    text = write_277ca(FILE, ACKS, ENVELOPE, received_on=RECEIVED)
    assert_valid_x12(text)
    read = read_277ca(text)
    assert read.batch_id == FILE.batch_id
    assert read.payer_id == "60054"
    expected_first = ClaimAcknowledgement("C1", True, "PAYER0001", (reason("A2", "20", "PR"),))
    assert read.claims == (expected_first, *ACKS[1:])


def test_claim_ids_are_echoed_in_trn02_and_statuses_in_stc() -> None:
    text = write_277ca(FILE, ACKS, ENVELOPE, received_on=RECEIVED)
    segments = tokenise(text)[1]
    assert [s[2] for s in segments if s[:2] == ("TRN", "2")] == ["B000042", "C1", "C2", "C3", "C4"]
    assert ("REF", "1K", "PAYER0001") in segments
    assert ("STC", "A7:33:IL", "20261126", "U", "143") in segments


@pytest.mark.parametrize(
    ("category", "accepted"),
    [
        ("A1", True),
        ("A2", True),
        ("A3", False),
        ("A4", False),
        ("A6", False),
        ("A7", False),
        ("A8", False),
    ],
)
def test_categories_decide_acceptance(category: str, accepted: bool) -> None:
    ack = ClaimAcknowledgement("C1", accepted, None, (reason(category, "21"),))
    read = read_277ca(write_277ca(FILE, [ack], ENVELOPE, received_on=RECEIVED))
    assert read.claims[0].accepted is accepted


def test_a_277ca_as_a_payer_writes_it() -> None:
    """Further statuses in STC10/11, a free-text message, line-level statuses under SVC."""
    text = (
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*RMG0001        *261127*0800*^*"
        "00501*000000009*0*P*:~"
        "GS*HN*PAYER*RMG0001*20261127*0800*9*X*005010X214~"
        "ST*277*0001*005010X214~"
        "BHT*0085*08*XYZ*20261127*0800*TH~"
        "HL*1**20*1~NM1*PR*2*ACME*****PI*60054~TRN*1*1~DTP*050*D8*20261127~DTP*009*D8*20261127~"
        "HL*2*1*21*1~NM1*41*2*RIVERSIDE*****46*RMG0001~TRN*2*B000042~STC*A1:19:PR*20261127*WQ*286~"
        "HL*3*2*19*1~NM1*85*2*RIVERSIDE*****XX*1234567893~TRN*1*0~STC*A1:19:PR*20261127*WQ*286~"
        "HL*4*3*PT~NM1*QC*1*DOE*JANE****MI*XYZ~TRN*2*C1~"
        "STC*A7:562:85*20261127*U*143******A7:128:82**Rendering NPI not enrolled~"
        "DTP*472*D8*20261120~"
        "SVC*HC:99213*125~STC*A7:454*20261127*U*125~REF*FJ*C1-1~DTP*472*D8*20261120~"
        "HL*5*3*PT~NM1*QC*1*DOE*JIMMY****MI*XYZ~TRN*2*C2~STC*A2:20:PR*20261127*WQ*143~"
        "REF*1K*2026331000123~DTP*472*D8*20261120~"
        "SE*30*0001~GE*1*9~IEA*1*000000009~"
    )
    read = read_277ca(text)
    first, second = read.claims
    assert first.claim_id == "C1"
    assert not first.accepted
    assert first.reasons == (
        StatusReason("A7", "562", "Rendering NPI not enrolled", "85"),
        StatusReason("A7", "128", "", "82"),
        StatusReason("A7", "454", "Procedure code for services rendered", ""),
    )
    assert second == ClaimAcknowledgement("C2", True, "2026331000123", (reason("A2", "20", "PR"),))


@pytest.mark.parametrize(
    ("acks", "why"),
    [
        ([ClaimAcknowledgement("NOPE", True)], "not in the claim file"),
        ([ClaimAcknowledgement("C1", False)], "without a rejecting reason"),
        (
            [ClaimAcknowledgement("C1", True, None, (reason("A7", "21"),))],
            "accepted with a rejecting",
        ),
        ([], "at least one claim"),
    ],
)
def test_a_277ca_that_would_lie_is_not_written(acks: list[ClaimAcknowledgement], why: str) -> None:
    with pytest.raises(X12ValueError, match=why):
        write_277ca(FILE, acks, ENVELOPE, received_on=RECEIVED)


def test_a_277ca_reader_refuses_what_is_not_a_277() -> None:
    with pytest.raises(X12ValueError):
        read_277ca(write_837(FILE))


def test_the_reply_envelope_goes_back_to_the_sender() -> None:
    assert ENVELOPE == Envelope(
        sender_id="LOOPBACK01",
        receiver_id="RMG0001",
        interchange_control_number=5001,
        group_control_number=5001,
        created_at=datetime(2026, 11, 26, 10, 0),  # noqa: DTZ001
        usage="T",
    )


def test_a_line_rejected_under_an_accepted_status_rejects_the_claim() -> None:
    text = write_277ca(FILE, [ClaimAcknowledgement("C1", True)], ENVELOPE, received_on=RECEIVED)
    assert read_277ca(text).claims[0].accepted
    with_line = text.replace(
        "DTP*472*RD8*20261120-20261120~",
        "DTP*472*RD8*20261120-20261120~\nSVC*HC:99213*125~\nSTC*A7:454*20261126*U*125~",
    )
    read = read_277ca(with_line).claims[0]
    assert not read.accepted
    assert read.reasons[-1] == reason("A7", "454")
