"""Writing an 835 (005010X221A1) from a `Remittance`: what the test clearinghouse and the
benchmarks send back for the claims they were given. It writes what pyx12 validates, and what
`read_835` reads back to the same `Remittance`.

The model keeps no names or addresses, so the writer is told them: the patient of each claim
(NM1*QC is required), the payer's address and its technical contact (N3/N4, PER*BL), and the
payee's address when known. Payments are by check (CHK) or none (NON): the bank details an ACH
payment carries (BPR05-BPR15) are not in the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from services.billing.domain.events import PostalAddress
from services.billing.domain.x12.cas import write_cas
from services.billing.domain.x12.envelope import Envelope, enveloped
from services.billing.domain.x12.model import PersonName
from services.billing.domain.x12.reader835 import VERSION
from services.billing.domain.x12.remittance import (
    ProviderAdjustment,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from services.billing.domain.x12.segments import (
    DEFAULT,
    Segment,
    X12ValueError,
    amount,
    ccyymmdd,
    composite,
    ident,
    segment,
    text,
    write,
)

PAYMENT_METHODS = ("CHK", "NON")


@dataclass(frozen=True)
class RemittanceParties:
    """What the 835 needs that the model does not keep."""

    payer_address: PostalAddress
    payer_contact_phone: str  # 10 digits
    patients: Mapping[str, PersonName]  # by CLP01
    payee_address: PostalAddress | None = None


def write_835(remittance: Remittance, parties: RemittanceParties, envelope: Envelope) -> str:
    if remittance.payment_method not in PAYMENT_METHODS:
        raise X12ValueError(
            f"payment method {remittance.payment_method!r}: the writer sends CHK or NON"
        )
    if not remittance.balances:
        raise X12ValueError("the remittance does not balance: BPR02 is not CLP04s less PLBs")
    body = [("ST", "835", "0001"), *_header(remittance, parties)]
    for number, claim in enumerate(remittance.claims, start=1):
        if number == 1:
            body.append(segment("LX", "1"))
        body.extend(_claim(claim, parties))
    body.extend(_provider_adjustments(remittance.provider_adjustments))
    return write(enveloped(envelope, "HP", VERSION, body))


def _header(r: Remittance, parties: RemittanceParties) -> Iterator[Segment]:
    paid_on = ccyymmdd(r.paid_on) if r.paid_on else ""
    yield (
        "BPR",
        r.handling_code,
        amount(r.payment_cents),
        r.credit_debit,
        r.payment_method,
        *([""] * 11),
        paid_on,
    )
    yield segment("TRN", "1", ident(r.trace_number, 50), ident(r.trace_originator, 10))
    if r.production_date:
        yield segment("DTM", "405", ccyymmdd(r.production_date))
    yield segment("N1", "PR", text(r.payer_name, 60))
    yield from _address(parties.payer_address)
    yield segment("REF", "2U", ident(r.x12_payer_id, 50))
    phone = parties.payer_contact_phone
    if len(phone) != 10 or not phone.isdigit():
        raise X12ValueError("the payer's contact phone has 10 digits")
    yield segment("PER", "BL", "", "TE", phone)
    if r.payee_npi:
        yield segment("N1", "PE", text(r.payee_name, 60), "XX", ident(r.payee_npi, 80))
    elif r.payee_tin:
        yield segment("N1", "PE", text(r.payee_name, 60), "FI", ident(r.payee_tin, 80))
    else:
        raise X12ValueError("the payee needs an NPI or a TIN")
    if parties.payee_address:
        yield from _address(parties.payee_address)
    if r.payee_npi and r.payee_tin:
        yield segment("REF", "TJ", ident(r.payee_tin, 50))


def _claim(claim: RemittanceClaim, parties: RemittanceParties) -> Iterator[Segment]:
    responsibility = amount(claim.patient_responsibility_cents)
    yield segment(
        "CLP",
        ident(claim.claim_ref, 38),
        claim.status_code,
        amount(claim.charge_cents),
        amount(claim.paid_cents),
        responsibility if claim.patient_responsibility_cents else "",
        claim.filing_indicator,
        ident(claim.payer_claim_control_number, 50),
    )
    yield from write_cas(claim.adjustments)
    patient = parties.patients.get(claim.claim_ref)
    if patient is None:
        raise X12ValueError(f"claim {claim.claim_ref}: the patient's name is not given")
    yield segment(
        "NM1", "QC", "1", text(patient.last, 60), text(patient.first, 35), text(patient.middle, 25)
    )
    if claim.remarks:
        yield segment("MOA", "", "", *(ident(r, 50) for r in claim.remarks[:5]))
    if claim.service_from:
        yield segment("DTM", "232", ccyymmdd(claim.service_from))
    for line in claim.lines:
        yield from _line(line)


def _line(line: RemittanceLine) -> Iterator[Segment]:
    procedure = composite(
        "HC", ident(line.code, 48), *(ident(m, 2) for m in line.modifiers[:4]), separators=DEFAULT
    )
    units = str(line.units) if line.units != 1 else ""
    yield segment("SVC", procedure, amount(line.charge_cents), amount(line.paid_cents), "", units)
    if line.service_date:
        yield segment("DTM", "472", ccyymmdd(line.service_date))
    yield from write_cas(line.adjustments)
    if line.line_item_control_number:
        yield segment("REF", "6R", ident(line.line_item_control_number, 50))
    for remark in line.remarks:
        yield segment("LQ", "HE", ident(remark, 30))


def _provider_adjustments(adjustments: tuple[ProviderAdjustment, ...]) -> Iterator[Segment]:
    """PLB segments: one per provider and period, up to six adjustments each."""
    by_key: dict[tuple[str, str], list[ProviderAdjustment]] = {}
    for a in adjustments:
        by_key.setdefault((a.provider_id, ccyymmdd(a.fiscal_period_end)), []).append(a)
    for (provider, period), items in by_key.items():
        for start in range(0, len(items), 6):
            elements: list[str] = []
            for a in items[start : start + 6]:
                reason = composite(ident(a.reason, 2), a.reference and ident(a.reference, 50))
                elements.extend((reason, amount(a.amount_cents)))
            yield segment("PLB", ident(provider, 50), period, *elements)


def _address(address: PostalAddress) -> Iterator[Segment]:
    yield segment("N3", text(address.line1, 55), text(address.line2, 55))
    yield segment(
        "N4", text(address.city, 30), ident(address.state, 2), ident(address.postal_code, 15)
    )
