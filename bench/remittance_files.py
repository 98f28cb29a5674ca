"""835 files a payer would send for claims of ours, for the posting benchmark and tests: each line
allowed a share of its charge (the rest a CO-45 contractual adjustment), a copay (PR-3) on the
first line, the rest paid; written with billing's own 835 writer (pyx12-valid), lines naming
ours by REF*6R as the 837 sent them. Synthetic names only."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime

from services.billing.domain.events import Adjustment, PostalAddress
from services.billing.domain.x12.envelope import Envelope
from services.billing.domain.x12.model import PersonName
from services.billing.domain.x12.remittance import (
    ProviderAdjustment,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from services.billing.domain.x12.writer835 import RemittanceParties, write_835

PAYER_X12_ID = "AETNA01"  # billing_claim_facts' payer "aetna"
PAID_ON = date(2026, 11, 25)


@dataclasses.dataclass(frozen=True)
class Billed:
    """A line as the claim billed it: its REF*6R, code and charge."""

    control_number: str
    code: str
    charge_cents: int


def paid_claim(
    claim_id: str,
    lines: Sequence[Billed],
    *,
    allowed_percent: int = 80,
    copay_cents: int = 2000,
    pccn: str | None = None,
    status: str = "1",
) -> RemittanceClaim:
    paid_lines = []
    for n, line in enumerate(lines):
        allowed = line.charge_cents * allowed_percent // 100
        copay = min(copay_cents, allowed) if n == 0 else 0
        adjustments = [
            Adjustment(group="CO", reason="45", amount_cents=line.charge_cents - allowed)
        ]
        if copay:
            adjustments.append(Adjustment(group="PR", reason="3", amount_cents=copay))
        paid_lines.append(
            RemittanceLine(
                code=line.code,
                modifiers=(),
                charge_cents=line.charge_cents,
                paid_cents=allowed - copay,
                units=1,
                line_item_control_number=line.control_number,
                service_date=PAID_ON,
                adjustments=tuple(a for a in adjustments if a.amount_cents),
            )
        )
    return RemittanceClaim(
        claim_ref=claim_id,
        status_code=status,
        charge_cents=sum(line.charge_cents for line in lines),
        paid_cents=sum(line.paid_cents for line in paid_lines),
        patient_responsibility_cents=min(copay_cents, paid_lines[0].charge_cents) if lines else 0,
        filing_indicator="12",
        payer_claim_control_number=pccn or f"PCN{claim_id}",
        lines=tuple(paid_lines),
    )


def reversal_of(claim: RemittanceClaim) -> RemittanceClaim:
    """CLP02 22: the payer takes `claim`'s payment back (every amount negated)."""

    def negated(adjustments: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
        return tuple(a.model_copy(update={"amount_cents": -a.amount_cents}) for a in adjustments)

    return dataclasses.replace(
        claim,
        status_code="22",
        charge_cents=-claim.charge_cents,
        paid_cents=-claim.paid_cents,
        patient_responsibility_cents=-claim.patient_responsibility_cents,
        adjustments=negated(claim.adjustments),
        lines=tuple(
            dataclasses.replace(
                line,
                charge_cents=-line.charge_cents,
                paid_cents=-line.paid_cents,
                adjustments=negated(line.adjustments),
            )
            for line in claim.lines
        ),
    )


def payment(
    claims: Sequence[RemittanceClaim],
    *,
    trace: str,
    provider_adjustments: Sequence[ProviderAdjustment] = (),
    number: int = 1,
    payer_x12_id: str = PAYER_X12_ID,
) -> Remittance:
    """A check paying `claims` (less the PLB adjustments): it balances."""
    paid = sum(c.paid_cents for c in claims) - sum(a.amount_cents for a in provider_adjustments)
    return Remittance(
        interchange_control_number=number,
        group_control_number=number,
        transaction_control_number="0001",
        handling_code="I" if paid else "H",
        payment_cents=abs(paid),
        credit_debit="D" if paid < 0 else "C",
        payment_method="CHK" if paid else "NON",
        paid_on=PAID_ON,
        trace_number=trace,
        trace_originator="1999999999",
        payer_name=f"{payer_x12_id.removesuffix('01')} HEALTH",
        x12_payer_id=payer_x12_id,
        payee_name="RIVERSIDE MEDICAL GROUP",
        payee_npi="1234567893",
        payee_tin="123456789",
        production_date=PAID_ON,
        claims=tuple(claims),
        provider_adjustments=tuple(provider_adjustments),
    )


def file_835(remittance: Remittance) -> bytes:
    parties = RemittanceParties(
        payer_address=PostalAddress(
            line1="1 Payer Way", city="Hartford", state="CT", postal_code="06101"
        ),
        payer_contact_phone="8005550100",
        patients={c.claim_ref: PersonName("Doe", "Jane") for c in remittance.claims},
    )
    envelope = Envelope(
        sender_id=remittance.x12_payer_id,
        receiver_id="RIVERSIDE",
        interchange_control_number=remittance.interchange_control_number,
        group_control_number=remittance.group_control_number,
        created_at=datetime(2026, 11, 25, 9, 30),  # noqa: DTZ001 - the payer's wall time
        usage="T",
    )
    return write_835(remittance, parties, envelope).encode("ascii")
