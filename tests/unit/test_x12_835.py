"""The 835 reader and writer: the public samples read (originals with warnings, patched copies
strictly), what we write passes pyx12 and reads back the same, and what does not balance or
count right is refused whole with a reason, never half read."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from services.billing.domain.events import Adjustment, PostalAddress
from services.billing.domain.x12.envelope import Envelope
from services.billing.domain.x12.model import PersonName
from services.billing.domain.x12.reader835 import RemittanceRefused, read_835
from services.billing.domain.x12.remittance import (
    ProviderAdjustment,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from services.billing.domain.x12.segments import X12ValueError
from services.billing.domain.x12.writer835 import RemittanceParties, write_835
from tests.x12_checks import assert_valid_x12, pyx12_verdict

SAMPLES = Path(__file__).parent.parent / "fixtures" / "x12" / "835"
ORIGINALS = sorted(p for p in SAMPLES.glob("*.835") if ".patched." not in p.name)
PATCHED = sorted(SAMPLES.glob("*.patched.835"))


# ----------------------------------------------------------------------------- the samples


@pytest.mark.parametrize("path", PATCHED + [SAMPLES / "pyx12-mult-loops.835"], ids=lambda p: p.name)
def test_the_strict_goldens_read_without_a_warning_and_pyx12_agrees(path: Path) -> None:
    data = path.read_bytes()
    assert pyx12_verdict(data.decode())[0]
    read = read_835(data)
    assert read.warnings == ()
    assert all(r.balances for r in read.remittances)


EXPECTED_WARNINGS = {
    "edi835parser-uhc.835": (),  # pyx12 fails it only for a made-up state code
    "lfh-cob-contractual-adjustment.835": ("separates components", "PER*BL", "BPR16 written"),
    "lfh-managed-care.835": ("PER*BL", "is not a date"),
    "lfh-secondary-payment.835": ("separates components", "PER*BL", "BPR16 written"),
    "pyx12-mult-loops.835": (),
}


@pytest.mark.parametrize("path", ORIGINALS, ids=lambda p: p.name)
def test_what_real_payers_send_reads_with_warnings_where_the_money_balances(path: Path) -> None:
    read = read_835(path.read_bytes())
    expected = EXPECTED_WARNINGS[path.name]
    assert len(read.warnings) >= len(expected)
    for fragment in expected:
        assert any(fragment in w for w in read.warnings), (fragment, read.warnings)
    patched = SAMPLES / path.name.replace(".835", ".patched.835")
    if patched.exists():  # the same money as the strict copy, whatever the file got wrong
        strict = read_835(patched.read_bytes()).remittances
        assert [_money(r) for r in read.remittances] == [_money(r) for r in strict]


def _money(r: Remittance) -> object:
    return (
        r.payment_cents,
        r.trace_number,
        [
            (c.claim_ref, c.paid_cents, c.adjustments, [(ln.code, ln.paid_cents) for ln in c.lines])
            for c in r.claims
        ],
    )


def test_a_sample_reads_to_what_its_segments_say() -> None:
    (remittance,) = read_835((SAMPLES / "edi835parser-uhc.835").read_bytes()).remittances
    assert (remittance.trace_number, remittance.x12_payer_id) == ("1234567890", "87726")
    assert remittance.payee_npi == "1922164458"
    assert remittance.payee_tin == "333333333"
    assert remittance.payment_cents == 34999
    assert remittance.paid_on == date(2021, 2, 4)
    first = remittance.claims[0]
    assert (first.claim_ref, first.status_code, first.payer_claim_control_number) == (
        "001-18573-358",
        "1",
        "ATL2819897200",
    )
    assert (first.charge_cents, first.paid_cents, first.patient_responsibility_cents) == (
        34128,
        8892,
        10526,
    )
    second_line = first.lines[1]
    assert second_line.line_item_control_number == "800941258002"
    assert second_line.adjustments == (
        Adjustment(group="PR", reason="1", amount_cents=10526),
        Adjustment(group="CO", reason="45", amount_cents=7960),
    )
    (denied,) = read_835((SAMPLES / "pyx12-mult-loops.835").read_bytes()).remittances[0].claims
    assert denied.status_code == "4"
    assert denied.lines[0].remarks == ("N14",)


# ----------------------------------------------------------------------------- writing


def _remittance(**changes: object) -> Remittance:
    paid = RemittanceClaim(
        claim_ref="C1A2B3C4D5E6F7A8B9C0",
        status_code="1",
        charge_cents=30000,
        paid_cents=16000,
        patient_responsibility_cents=6000,
        filing_indicator="12",
        payer_claim_control_number="PCN0001",
        remarks=("MA01",),
        service_from=date(2026, 11, 2),
        lines=(
            RemittanceLine(
                code="99214",
                modifiers=("25",),
                charge_cents=20000,
                paid_cents=12000,
                units=1,
                line_item_control_number="C1A2B3C4D5E6F7A8B9C0-1",
                service_date=date(2026, 11, 2),
                adjustments=(
                    Adjustment(group="CO", reason="45", amount_cents=3000),
                    Adjustment(group="PR", reason="2", amount_cents=5000),
                ),
            ),
            RemittanceLine(
                code="93000",
                modifiers=(),
                charge_cents=10000,
                paid_cents=4000,
                units=2,
                line_item_control_number="C1A2B3C4D5E6F7A8B9C0-2",
                service_date=date(2026, 11, 2),
                adjustments=(
                    Adjustment(group="CO", reason="45", amount_cents=5000),
                    Adjustment(group="PR", reason="3", amount_cents=1000),
                ),
                remarks=("N130",),
            ),
        ),
    )
    denied = RemittanceClaim(
        claim_ref="C2",
        status_code="4",
        charge_cents=12500,
        paid_cents=0,
        patient_responsibility_cents=0,
        filing_indicator="12",
        payer_claim_control_number="PCN0002",
        adjustments=(Adjustment(group="CO", reason="16", amount_cents=12500),),
    )
    reversal = RemittanceClaim(
        claim_ref="C3",
        status_code="22",
        charge_cents=-12500,
        paid_cents=-9000,
        patient_responsibility_cents=-2000,
        filing_indicator="12",
        payer_claim_control_number="PCN0003",
        adjustments=(
            Adjustment(group="CO", reason="45", amount_cents=-1500),
            Adjustment(group="PR", reason="1", amount_cents=-2000),
        ),
    )
    adjustments = (
        ProviderAdjustment("1234567893", date(2026, 12, 31), "L6", "PCN0001", -125),
        ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "PCN0999", 2000),
    )
    base = Remittance(
        interchange_control_number=17,
        group_control_number=17,
        transaction_control_number="0001",
        handling_code="I",
        payment_cents=16000 - 9000 + 125 - 2000,
        credit_debit="C",
        payment_method="CHK",
        paid_on=date(2026, 11, 25),
        trace_number="CHK000123",
        trace_originator="1999999999",
        payer_name="ACME HEALTH PLAN",
        x12_payer_id="ACME01",
        payee_name="RIVERSIDE MEDICAL GROUP",
        payee_npi="1234567893",
        payee_tin="123456789",
        production_date=date(2026, 11, 24),
        claims=(paid, denied, reversal),
        provider_adjustments=adjustments,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


PARTIES = RemittanceParties(
    payer_address=PostalAddress(
        line1="1 Payer Way", city="Hartford", state="CT", postal_code="06101"
    ),
    payer_contact_phone="8005550100",
    patients={
        "C1A2B3C4D5E6F7A8B9C0": PersonName("Rivera", "Ana"),
        "C2": PersonName("Okafor", "Chidi", "N"),
        "C3": PersonName("Smith", "Jo"),
    },
    payee_address=PostalAddress(
        line1="10 Main St", city="Springfield", state="IL", postal_code="62701"
    ),
)
ENVELOPE = Envelope(
    sender_id="ACME01",
    receiver_id="RIVERSIDE",
    interchange_control_number=17,
    group_control_number=17,
    created_at=datetime(2026, 11, 25, 9, 30),  # noqa: DTZ001 - the payer's wall time
    usage="T",
)


def test_what_we_write_passes_pyx12_and_reads_back_the_same() -> None:
    remittance = _remittance()
    text = write_835(remittance, PARTIES, ENVELOPE)
    assert_valid_x12(text)
    read = read_835(text.encode())
    assert read.warnings == ()
    assert read.remittances == (remittance,)


def test_the_writer_refuses_what_it_cannot_write_honestly() -> None:
    with pytest.raises(X12ValueError, match="does not balance"):
        write_835(_remittance(payment_cents=1), PARTIES, ENVELOPE)
    with pytest.raises(X12ValueError, match="CHK or NON"):
        write_835(_remittance(payment_method="ACH"), PARTIES, ENVELOPE)
    with pytest.raises(X12ValueError, match="patient's name"):
        write_835(_remittance(), replace(PARTIES, patients={}), ENVELOPE)


# ----------------------------------------------------------------------------- refusals


def _written() -> str:
    return write_835(_remittance(), PARTIES, ENVELOPE)


def _edit(old: str, new: str) -> bytes:
    text = _written()
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("BPR*I*51.25*", "BPR*I*51.26*", "does not balance: BPR02 51.26"),
        ("CLP*C2*4*125*0", "CLP*C2*4*126*0", "claim C2 does not balance"),
        ("SVC*HC:93000*100*40", "SVC*HC:93000*100*41", "does not balance"),
        ("SE*", "SE*9", "SE01 says 9"),
        ("GE*1*17", "GE*2*17", "GE01 says 2"),
        ("IEA*1*000000017", "IEA*1*000000018", "IEA02"),
        ("ST*835*0001", "ST*837*0001", "not an 835"),
        ("GS*HP*", "GS*HC*", "not a remittance group"),
        ("TRN*1*CHK000123*", "TRN*1**", "no trace number"),
        ("CLP*C2*4*125*0", "CLP*C2*4*12X5*0", "segment "),
        ("CAS*CO*16", "CAS*XX*16", "CAS XX-16: the group"),
        ("005010X221A1", "005010X222A1", "not an 005010X221A1"),
    ],
)
def test_a_file_that_does_not_count_or_balance_is_refused_whole(
    old: str, new: str, reason: str
) -> None:
    with pytest.raises(RemittanceRefused, match=reason.replace("*", r"\*")):
        read_835(_edit(old, new))


def test_what_is_not_x12_is_refused_with_a_reason() -> None:
    for data in (b"", b"hello", "ISA*é".encode(), b"\x00\xff" * 80, _written()[:200].encode()):
        with pytest.raises(RemittanceRefused):
            read_835(data)


def test_no_cut_or_damaged_file_escapes_as_anything_but_a_refusal() -> None:
    text = _written()
    chance = random.Random(835)
    for _ in range(400):
        cut = chance.randrange(len(text))
        damaged = [text[:cut], text[:cut] + text[cut + 1 :], text[:cut] + "*" + text[cut:]]
        for candidate in damaged:
            try:
                read_835(candidate.encode())
            except RemittanceRefused:
                pass


def test_the_digest_is_of_the_bytes() -> None:
    data = _written().encode()
    assert read_835(data).digest == read_835(data).digest
    assert read_835(data).digest != read_835(data.replace(b"\n", b"\r\n")).digest
