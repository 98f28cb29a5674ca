"""The statement PDF writer: readable by a PDF library, the same bytes for the same ledger."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from pypdf import PdfReader

from services.billing.domain.events import PatientPaymentReceived, PatientResponsibilityAssessed
from services.billing.domain.statement_pdf import money, statement_lines, write_pdf

AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
ENTRIES = (
    PatientResponsibilityAssessed(
        patient_id="p",
        entry_id="e1",
        charge_id="appt-1",
        claim_id=None,
        site_id="north",
        provider_id="dr-a",
        date_of_service=date(2026, 11, 20),
        amount_cents=15000,
        reason="self_pay",
        learnt_from="x",
        assessed_at=AT,
    ),
    PatientPaymentReceived(
        patient_id="p",
        payment_id="pay-1",
        amount_cents=2500,
        method="card",
        site_id="north",
        received_by="u",
        received_at=AT,
    ),
)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def lines(entries: tuple[object, ...] = ENTRIES) -> list[str]:
    return statement_lines(
        practice="Riverside (Medical) Group",
        name="Ada Lovelace",
        address="1 Main St, Springfield, IL 62701",
        period_end=date(2026, 11, 30),
        due_on=date(2026, 12, 30),
        entries=entries,  # type: ignore[arg-type]
    )


def test_the_statement_says_who_what_was_owed_paid_and_the_balance_due() -> None:
    text = text_of(write_pdf(lines()))
    assert "Ada Lovelace" in text
    assert "Springfield" in text
    assert "Riverside (Medical) Group" in text
    assert "Visit appt-1: self-pay" in text
    assert "$150.00" in text
    assert "Payment (card)" in text
    assert "-$25.00" in text
    assert "Balance due: $125.00" in text


def test_the_same_ledger_gives_the_same_bytes() -> None:
    assert write_pdf(lines()) == write_pdf(lines())
    assert write_pdf(lines()) != write_pdf(lines(ENTRIES[:1]))


def test_long_ledgers_run_onto_more_pages() -> None:
    many = tuple(ENTRIES[1] for _ in range(120))
    reader = PdfReader(io.BytesIO(write_pdf(lines((ENTRIES[0], *many)))))
    assert len(reader.pages) == 3


def test_money_is_dollars_and_cents() -> None:
    assert (money(123456), money(-5), money(0)) == ("$1,234.56", "-$0.05", "$0.00")
