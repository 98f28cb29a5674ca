"""A patient statement as a PDF (text only, written by `shared.pdf`).

Deterministic: the same ledger entries, name and dates give the same bytes (no timestamps, no
ids of its own), so a statement is written again from the ledger's events up to its `as_of`
and checked against the digest recorded in `StatementIssued`. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from services.billing.domain.events import (
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    PatientResponsibilityAssessed,
)
from shared.events import DomainEvent
from shared.money import dollars as money
from shared.pdf import write_pdf

__all__ = ["digest", "money", "statement_lines", "write_pdf"]

REASONS = {
    "deductible": "deductible",
    "coinsurance": "coinsurance",
    "copay": "copay",
    "not_covered": "not covered",
    "self_pay": "self-pay",
    "other": "patient responsibility",
}


def statement_lines(
    *,
    practice: str,
    name: str,
    address: str,
    period_end: date,
    due_on: date,
    entries: Sequence[DomainEvent],
) -> list[str]:
    """What the statement says, line by line."""
    lines = [
        f"{practice} - Patient statement",
        f"Statement date: {period_end.isoformat()}",
        "",
        name,
        *(part.strip() for part in address.split(",") if part.strip()),
        "",
        "Date        Description                                   Amount",
    ]
    balance = 0
    for e in entries:
        match e:
            case PatientResponsibilityAssessed():
                what = REASONS.get(e.reason, e.reason)
                label = f"Visit {e.charge_id}: {what}"
                lines.append(
                    f"{e.date_of_service.isoformat()}  {label:<44}  {money(e.amount_cents)}"
                )
                balance += e.amount_cents
            case PatientPaymentReceived():
                label = f"Payment ({e.method}) - thank you"
                day = e.received_at.date().isoformat()
                lines.append(f"{day}  {label:<44}  {money(-e.amount_cents)}")
                balance -= e.amount_cents
            case PatientRefunded():
                day = e.refunded_at.date().isoformat()
                lines.append(f"{day}  {'Refund':<44}  {money(e.amount_cents)}")
                balance += e.amount_cents
            case PatientBalanceWrittenOff():
                day = e.written_off_at.date().isoformat()
                lines.append(f"{day}  {'Adjustment':<44}  {money(-e.amount_cents)}")
                balance -= e.amount_cents
    lines += ["", f"Balance due: {money(balance)}", f"Please pay by {due_on.isoformat()}."]
    return lines


def digest(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()
