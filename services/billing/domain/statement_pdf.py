"""A patient statement as a PDF: a small hand-written PDF 1.4 writer (Helvetica, text only).

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

LINES_PER_PAGE = 48
REASONS = {
    "deductible": "deductible",
    "coinsurance": "coinsurance",
    "copay": "copay",
    "not_covered": "not covered",
    "self_pay": "self-pay",
    "other": "patient responsibility",
}


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


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


def _escape(text: str) -> str:
    plain = text.encode("latin-1", "replace").decode("latin-1")
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(lines: Sequence[str]) -> bytes:
    """A text-only PDF of `lines`, `LINES_PER_PAGE` a page (US letter)."""
    pages = [list(lines[i : i + LINES_PER_PAGE]) for i in range(0, len(lines), LINES_PER_PAGE)]
    pages = pages or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]
    font = 3
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"
    )
    for i, page in enumerate(pages):
        content_ref = first_page + 2 * i + 1
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content_ref} 0 R >>"
            ).encode()
        )
        text = ["BT", "/F1 10 Tf", "12 TL", "50 750 Td"]
        text += [f"({_escape(line)}) Tj T*" for line in page]
        text.append("ET")
        stream = "\n".join(text).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def digest(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()
