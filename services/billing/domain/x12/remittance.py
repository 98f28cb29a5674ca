"""What an 835 (005010X221A1) remittance says, as plain values: the reader parses files into
it, posting reads it, the test clearinghouse writes it. Money is integer cents (a reversal's
amounts are negative, as the payer sends them); dates are dates. No X12 syntax here, and no
patient names: claims are matched by CLP01 (our claim id) and lines by REF*6R.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.billing.domain.events import Adjustment


@dataclass(frozen=True)
class RemittanceLine:
    """Loop 2110: one service line's payment (SVC, DTM*472, CAS, REF*6R, LQ*HE)."""

    code: str  # SVC01-2: the CPT/HCPCS code adjudicated
    modifiers: tuple[str, ...]
    charge_cents: int  # SVC02
    paid_cents: int  # SVC03
    units: int  # SVC05 (1 when absent)
    line_item_control_number: str | None  # REF*6R: our line (None: the payer did not echo it)
    service_date: date | None
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # LQ*HE: RARC


@dataclass(frozen=True)
class RemittanceClaim:
    """Loop 2100: one claim's payment (CLP, CAS, REF, DTM, MOA/MIA remarks) and its lines."""

    claim_ref: str  # CLP01: our claim id as we sent it (CLM01)
    status_code: str  # CLP02: 1/2/3 processed as primary/secondary/tertiary, 4 denied,
    # 19/20/21 processed and forwarded, 22 reversal of a previous payment, 23 not our claim
    charge_cents: int  # CLP03
    paid_cents: int  # CLP04
    patient_responsibility_cents: int  # CLP05 (0 when absent)
    filing_indicator: str  # CLP06
    payer_claim_control_number: str  # CLP07
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    remarks: tuple[str, ...] = ()  # MOA/MIA remark codes
    lines: tuple[RemittanceLine, ...] = ()
    service_from: date | None = None  # DTM*232 (or the lines' earliest DTM*472)

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB adjustment (a PLB segment holds up to six): positive amounts reduce the payment
    (a recoupment, an offset), negative ones add to it (interest)."""

    provider_id: str  # PLB01: the payee's NPI or TIN
    fiscal_period_end: date  # PLB02
    reason: str  # PLB03-1: L6 interest, WO overpayment recovery, FB forwarding balance, ...
    reference: str  # PLB03-2: what it refers to (often a payer claim control number)
    amount_cents: int


@dataclass(frozen=True)
class Remittance:
    """One transaction set (ST..SE) of an 835: one payment to one payee."""

    interchange_control_number: int  # ISA13
    group_control_number: int  # GS06
    transaction_control_number: str  # ST02
    handling_code: str  # BPR01: I remittance and payment, H notification only, ...
    payment_cents: int  # BPR02: what was paid in all
    credit_debit: str  # BPR03: C or D
    payment_method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    paid_on: date | None  # BPR16 (None: absent or not a date; a warning, not a refusal)
    trace_number: str  # TRN02: the check or EFT number
    trace_originator: str  # TRN03: the payer's id (1 + TIN, usually)
    payer_name: str  # N1*PR
    x12_payer_id: str  # N1*PR N104 or REF*2U, else TRN03
    payee_name: str  # N1*PE
    payee_npi: str | None  # N1*PE*XX
    payee_tin: str | None  # REF*TJ or N1*PE*FI
    production_date: date | None  # DTM*405
    claims: tuple[RemittanceClaim, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()

    @property
    def balances(self) -> bool:
        """BPR02 = sum of CLP04 - sum of PLB amounts (a debit's BPR02 counts negative)."""
        paid = sum(c.paid_cents for c in self.claims)
        adjusted = sum(a.amount_cents for a in self.provider_adjustments)
        payment = -self.payment_cents if self.credit_debit == "D" else self.payment_cents
        return payment == paid - adjusted
