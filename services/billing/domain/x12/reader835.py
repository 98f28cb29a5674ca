"""Reading an 835 (005010X221A1) remittance into `Remittance`s, checked before anything posts.

Refused whole (`RemittanceRefused`, with the reason a biller reads), because posting it would
post money wrongly or not at all:
- not X12, not an 835, or a value that is not what its element holds (an amount, a count);
- envelope or counts wrong: IEA01 and IEA02, GE01 and GE02, SE01 and SE02 against what the
  file holds;
- no payment (BPR), no trace number (TRN02), no payer (N1*PR) or payee (N1*PE);
- out of balance: BPR02 must equal the claims' CLP04 less the PLB adjustments, and each claim's
  charge less its payment must equal its adjustments (claim and line CAS), each line's too.

Read with a warning, because real payers send files like these and the money still balances
(the public samples in `../shared/x12/835/` do it): no PER*BL contact, BPR16 missing, not a
date or in the wrong element, composites written with another component separator than ISA16
declares, GS08 naming another release of 005010X221.

No patient names are kept (NM1*QC is read past): claims are matched by CLP01.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from pydantic import ValidationError

from services.billing.domain.events import Adjustment
from services.billing.domain.x12.cas import read_cas
from services.billing.domain.x12.remittance import (
    ProviderAdjustment,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from services.billing.domain.x12.segments import (
    Segment,
    Separators,
    X12ValueError,
    cents_of,
    date_of,
    element,
    tokenise,
    whole_number,
)

VERSION = "005010X221A1"


class RemittanceRefused(X12ValueError):
    """The file cannot be posted: the reason says why, in a biller's words."""


@dataclass(frozen=True)
class RemittanceFile:
    """What one file held: its transactions (one payment each), what it got wrong that does
    not change the money, and the SHA-256 of its bytes."""

    remittances: tuple[Remittance, ...]
    warnings: tuple[str, ...]
    digest: str


def read_835(data: bytes) -> RemittanceFile:
    digest = hashlib.sha256(data).hexdigest()
    try:
        content = data.decode("ascii")
    except UnicodeDecodeError:
        raise RemittanceRefused("the file holds characters outside ASCII: it is not X12") from None
    try:
        separators, segments = tokenise(content)
    except X12ValueError as error:
        raise RemittanceRefused(str(error)) from None
    reader = _Reader(separators)
    try:
        remittances = tuple(reader.interchange(segments))
    except RemittanceRefused:
        raise
    except (X12ValueError, ValidationError, IndexError) as error:
        raise RemittanceRefused(f"segment {reader.position}: {_short(error)}") from None
    if not remittances:
        raise RemittanceRefused("the file holds no 835 transaction")
    return RemittanceFile(remittances, tuple(dict.fromkeys(reader.warnings)), digest)


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return str(error)


# ----------------------------------------------------------------------------- the envelope


@dataclass
class _Reader:
    separators: Separators
    warnings: list[str] = field(default_factory=list)
    position: int = 0  # 1-based, of the segment being read

    def interchange(self, segments: list[Segment]) -> Iterator[Remittance]:
        if not segments or segments[0][0] != "ISA":
            raise RemittanceRefused("the file does not start with an ISA segment")
        isa = segments[0]
        if segments[-1][0] != "IEA":
            raise RemittanceRefused("the interchange does not end with IEA")
        iea = segments[-1]
        if element(iea, 2).lstrip("0") != element(isa, 13).lstrip("0"):
            raise RemittanceRefused(
                f"IEA02 {element(iea, 2)!r} is not the ISA13 {element(isa, 13)!r}"
            )
        interchange_number = _count(element(isa, 13), "ISA13")
        groups = 0
        index = 1
        while index < len(segments) - 1:
            self.position = index + 1
            tag = segments[index][0]
            if tag != "GS":
                raise RemittanceRefused(f"segment {index + 1} is {tag}, not a GS")
            end = _closing(segments, index, "GS", "GE")
            groups += 1
            yield from self.group(segments[index : end + 1], index, interchange_number)
            index = end + 1
        if _count(element(iea, 1), "IEA01") != groups:
            raise RemittanceRefused(f"IEA01 says {element(iea, 1)} groups; the file holds {groups}")

    def group(self, segments: list[Segment], offset: int, interchange: int) -> Iterator[Remittance]:
        gs, ge = segments[0], segments[-1]
        if element(gs, 1) != "HP":
            raise RemittanceRefused(f"GS01 is {element(gs, 1)!r}: not a remittance group (HP)")
        version = element(gs, 8)
        if version != VERSION:
            if not version.startswith("005010X221"):
                raise RemittanceRefused(f"GS08 is {version!r}: not an 005010X221A1 remittance")
            self.warnings.append(f"GS08 is {version!r}, read as {VERSION}")
        if element(ge, 2) != element(gs, 6):
            raise RemittanceRefused(f"GE02 {element(ge, 2)!r} is not the GS06 {element(gs, 6)!r}")
        group_number = _count(element(gs, 6), "GS06")
        sets = 0
        index = 1
        while index < len(segments) - 1:
            self.position = offset + index + 1
            if segments[index][0] != "ST":
                raise RemittanceRefused(f"segment {offset + index + 1} is not an ST")
            end = _closing(segments, index, "ST", "SE")
            sets += 1
            transaction = segments[index : end + 1]
            self._check_set(transaction)
            yield self.transaction(transaction, offset + index, interchange, group_number)
            index = end + 1
        if _count(element(ge, 1), "GE01") != sets:
            raise RemittanceRefused(
                f"GE01 says {element(ge, 1)} transactions; the group holds {sets}"
            )

    def _check_set(self, transaction: list[Segment]) -> None:
        st, se = transaction[0], transaction[-1]
        if element(st, 1) != "835":
            raise RemittanceRefused(f"ST01 is {element(st, 1)!r}: not an 835")
        if element(se, 2) != element(st, 2):
            raise RemittanceRefused(f"SE02 {element(se, 2)!r} is not the ST02 {element(st, 2)!r}")
        if _count(element(se, 1), "SE01") != len(transaction):
            raise RemittanceRefused(
                f"SE01 says {element(se, 1)} segments; transaction {element(st, 2)} "
                f"holds {len(transaction)}"
            )

    # ------------------------------------------------------------------------- a transaction

    def transaction(
        self, segments: list[Segment], offset: int, interchange: int, group: int
    ) -> Remittance:
        header = _Header()
        claims: list[RemittanceClaim] = []
        adjustments: list[ProviderAdjustment] = []
        loop = "header"
        claim: _ClaimDraft | None = None
        line: _LineDraft | None = None
        for number, seg in enumerate(segments[1:-1], start=2):
            self.position = offset + number
            tag = seg[0]
            if tag == "CLP":
                if claim is not None:
                    claims.append(self._claim(claim, line))
                claim, line, loop = _ClaimDraft(seg), None, "claim"
            elif tag == "SVC" and claim is not None:
                if line is not None:
                    claim.lines.append(self._line(line))
                line, loop = _LineDraft(seg), "line"
            elif tag == "PLB":
                if claim is not None:
                    claims.append(self._claim(claim, line))
                claim, line, loop = None, None, "summary"
                adjustments.extend(self._plb(seg))
            elif tag == "LX":
                if claim is not None:
                    claims.append(self._claim(claim, line))
                claim, line, loop = None, None, "claims"
            elif loop == "header":
                self._header(header, seg)
            elif loop == "claim" and claim is not None:
                claim.take(seg, self)
            elif loop == "line" and line is not None:
                line.take(seg, self)
        if claim is not None:
            claims.append(self._claim(claim, line))
        return self._remittance(header, segments, interchange, group, claims, adjustments)

    def _header(self, header: _Header, seg: Segment) -> None:
        tag = seg[0]
        if tag == "BPR":
            header.bpr = seg
        elif tag == "TRN":
            header.trn = seg
        elif tag == "DTM" and element(seg, 1) == "405":
            header.production_date = self._date(element(seg, 2), "DTM*405")
        elif tag == "N1":
            header.party = element(seg, 1)
            if header.party == "PR":
                header.payer = seg
            elif header.party == "PE":
                header.payee = seg
        elif tag == "REF" and header.party == "PR" and element(seg, 1) == "2U":
            header.payer_ref = element(seg, 2)
        elif tag == "REF" and header.party == "PE" and element(seg, 1) == "TJ":
            header.payee_tin = element(seg, 2)
        elif tag == "PER" and header.party == "PR" and element(seg, 1) == "BL":
            header.technical_contact = True

    def _remittance(
        self,
        header: _Header,
        segments: list[Segment],
        interchange: int,
        group: int,
        claims: list[RemittanceClaim],
        adjustments: list[ProviderAdjustment],
    ) -> Remittance:
        st = segments[0]
        control = element(st, 2)
        bpr, trn = header.bpr, header.trn
        if bpr is None:
            raise RemittanceRefused(f"transaction {control} has no payment (BPR)")
        if trn is None or not element(trn, 2):
            raise RemittanceRefused(f"transaction {control} has no trace number (TRN02)")
        if header.payer is None or not element(header.payer, 2):
            raise RemittanceRefused(f"transaction {control} names no payer (N1*PR)")
        if header.payee is None:
            raise RemittanceRefused(f"transaction {control} names no payee (N1*PE)")
        if not header.technical_contact:
            self.warnings.append(f"transaction {control}: no payer technical contact (PER*BL)")
        payee_qualifier = element(header.payee, 3)
        payee_id = element(header.payee, 4)
        x12_payer_id = (element(header.payer, 4) or header.payer_ref or element(trn, 3)).strip()
        if not x12_payer_id:
            raise RemittanceRefused(
                f"transaction {control} gives no payer id (N104, REF*2U, TRN03)"
            )
        remittance = Remittance(
            interchange_control_number=interchange,
            group_control_number=group,
            transaction_control_number=control,
            handling_code=element(bpr, 1),
            payment_cents=cents_of(element(bpr, 2)),
            credit_debit=element(bpr, 3) or "C",
            payment_method=element(bpr, 4),
            paid_on=self._payment_date(bpr, control),
            trace_number=element(trn, 2),
            trace_originator=element(trn, 3),
            payer_name=element(header.payer, 2),
            x12_payer_id=x12_payer_id,
            payee_name=element(header.payee, 2),
            payee_npi=payee_id if payee_qualifier == "XX" else None,
            payee_tin=header.payee_tin or (payee_id if payee_qualifier == "FI" else None),
            production_date=header.production_date,
            claims=tuple(claims),
            provider_adjustments=tuple(adjustments),
        )
        if remittance.credit_debit not in ("C", "D"):
            raise RemittanceRefused(f"BPR03 {remittance.credit_debit!r} is not C or D")
        if not remittance.balances:
            paid = sum(c.paid_cents for c in claims)
            plb = sum(a.amount_cents for a in adjustments)
            raise RemittanceRefused(
                f"transaction {control} does not balance: BPR02 {element(bpr, 2)} is not the "
                f"claims' payments {_money(paid)} less provider adjustments {_money(plb)}"
            )
        return remittance

    def _payment_date(self, bpr: Segment, control: str) -> date | None:
        value = element(bpr, 16)
        if not value:
            tail = bpr[-1] if len(bpr) > 5 else ""
            if len(tail) == 8 and tail.isdigit():
                self.warnings.append(f"transaction {control}: BPR16 written as BPR{len(bpr) - 1}")
                value = tail
        if not value:
            self.warnings.append(f"transaction {control}: no payment date (BPR16)")
            return None
        try:
            return date_of(value)
        except X12ValueError:
            self.warnings.append(f"transaction {control}: BPR16 {value!r} is not a date")
            return None

    def _date(self, value: str, where: str) -> date | None:
        try:
            return date_of(value)
        except X12ValueError:
            self.warnings.append(f"{where} {value!r} is not a date")
            return None

    # ------------------------------------------------------------------------ claims and lines

    def _claim(self, draft: _ClaimDraft, line: _LineDraft | None) -> RemittanceClaim:
        if line is not None:
            draft.lines.append(self._line(line))
        clp = draft.clp
        ref = element(clp, 1)
        if not ref:
            raise RemittanceRefused("a claim payment (CLP) has no claim id (CLP01)")
        if not element(clp, 7):
            raise RemittanceRefused(f"claim {ref}: no payer claim control number (CLP07)")
        charge = cents_of(element(clp, 3))
        paid = cents_of(element(clp, 4))
        responsibility = cents_of(element(clp, 5)) if element(clp, 5) else 0
        adjustments = tuple(draft.adjustments)
        adjusted = sum(a.amount_cents for a in adjustments) + sum(
            a.amount_cents for ln in draft.lines for a in ln.adjustments
        )
        if charge - paid != adjusted:
            raise RemittanceRefused(
                f"claim {ref} does not balance: charge {_money(charge)} less paid {_money(paid)} "
                f"is not its adjustments {_money(adjusted)}"
            )
        for ln in draft.lines:
            line_adjusted = sum(a.amount_cents for a in ln.adjustments)
            if draft.lines and ln.charge_cents - ln.paid_cents != line_adjusted:
                raise RemittanceRefused(
                    f"claim {ref}, line {ln.code} does not balance: charge "
                    f"{_money(ln.charge_cents)} less paid "
                    f"{_money(ln.paid_cents)} is not its adjustments {_money(line_adjusted)}"
                )
        service_from = draft.service_from or min(
            (ln.service_date for ln in draft.lines if ln.service_date), default=None
        )
        return RemittanceClaim(
            claim_ref=ref,
            status_code=element(clp, 2),
            charge_cents=charge,
            paid_cents=paid,
            patient_responsibility_cents=responsibility,
            filing_indicator=element(clp, 6),
            payer_claim_control_number=element(clp, 7),
            adjustments=adjustments,
            remarks=tuple(draft.remarks),
            lines=tuple(draft.lines),
            service_from=service_from,
        )

    def _line(self, draft: _LineDraft) -> RemittanceLine:
        svc = draft.svc
        parts = self._composite(element(svc, 1), "SVC01")
        if len(parts) < 2 or not parts[1]:
            raise RemittanceRefused(f"SVC01 {element(svc, 1)!r} names no procedure")
        units = element(svc, 5)
        return RemittanceLine(
            code=parts[1],
            modifiers=tuple(m for m in parts[2:6] if m),
            charge_cents=cents_of(element(svc, 2)),
            paid_cents=cents_of(element(svc, 3)),
            units=whole_number(units) if units else 1,
            line_item_control_number=draft.control_number,
            service_date=draft.service_date,
            adjustments=tuple(draft.adjustments),
            remarks=tuple(draft.remarks),
        )

    def _composite(self, value: str, where: str) -> list[str]:
        """A composite's components; one written with another separator than ISA16 declares
        (">" where ":" was declared, as some payers do) is read with a warning."""
        component = self.separators.component
        if component not in value and len(value) > 3 and not value[2].isalnum():
            self.warnings.append(
                f"{where} {value!r} separates components with {value[2]!r}, "
                f"not the declared {component!r}"
            )
            component = value[2]
        return value.split(component)

    def _plb(self, seg: Segment) -> Iterator[ProviderAdjustment]:
        provider = element(seg, 1)
        period = date_of(element(seg, 2))
        for start in range(3, 15, 2):
            reason_ref = element(seg, start)
            if not reason_ref:
                continue
            parts = self._composite(reason_ref, "PLB") + [""]
            yield ProviderAdjustment(
                provider_id=provider,
                fiscal_period_end=period,
                reason=parts[0],
                reference=parts[1],
                amount_cents=cents_of(element(seg, start + 1)),
            )


@dataclass
class _Header:
    bpr: Segment | None = None
    trn: Segment | None = None
    payer: Segment | None = None
    payee: Segment | None = None
    party: str = ""
    payer_ref: str = ""
    payee_tin: str | None = None
    technical_contact: bool = False
    production_date: date | None = None


@dataclass
class _ClaimDraft:
    clp: Segment
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    lines: list[RemittanceLine] = field(default_factory=list)
    service_from: date | None = None

    def take(self, seg: Segment, reader: _Reader) -> None:
        tag = seg[0]
        if tag == "CAS":
            self.adjustments.extend(read_cas(seg))
        elif tag == "MOA":
            self.remarks.extend(r for r in seg[3:8] if r)
        elif tag == "MIA":
            self.remarks.extend(element(seg, i) for i in (5, 20, 21, 22, 23) if element(seg, i))
        elif tag == "DTM" and element(seg, 1) == "232":
            self.service_from = reader._date(element(seg, 2), "DTM*232")


@dataclass
class _LineDraft:
    svc: Segment
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    control_number: str | None = None
    service_date: date | None = None

    def take(self, seg: Segment, reader: _Reader) -> None:
        tag = seg[0]
        if tag == "CAS":
            self.adjustments.extend(read_cas(seg))
        elif tag == "REF" and element(seg, 1) == "6R":
            self.control_number = element(seg, 2)
        elif tag == "LQ" and element(seg, 1) == "HE":
            self.remarks.append(element(seg, 2))
        elif tag == "DTM" and element(seg, 1) in ("472", "150") and self.service_date is None:
            self.service_date = reader._date(element(seg, 2), f"DTM*{element(seg, 1)}")


def _closing(segments: list[Segment], start: int, opening: str, closing: str) -> int:
    for index in range(start + 1, len(segments)):
        tag = segments[index][0]
        if tag == closing:
            return index
        if tag == opening:
            break
    raise RemittanceRefused(f"the {opening} at segment {start + 1} has no {closing}")


def _count(value: str, where: str) -> int:
    if not value.strip().isdigit():
        raise RemittanceRefused(f"{where} {value!r} is not a number")
    return int(value)


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
