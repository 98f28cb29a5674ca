"""What an 837P (005010X222A1) file says, as plain values: the claims builder fills it from
billing's events (PHI opened), the writer turns it into segments, the reader parses files back
into it. Money is integer cents; dates are dates. No X12 syntax here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.billing.domain.events import Adjustment, PostalAddress


@dataclass(frozen=True)
class PersonName:
    last: str
    first: str = ""
    middle: str = ""


@dataclass(frozen=True)
class Person:
    """A patient or subscriber: name, and, when they are the patient, address, birth date, sex
    (DMG03: "F", "M" or "U")."""

    name: PersonName
    address: PostalAddress | None = None
    birth_date: date | None = None
    sex: str = "U"


@dataclass(frozen=True)
class Submitter:
    """Loop 1000A (the group, to the clearinghouse) and 1000B (the clearinghouse)."""

    name: str
    id: str  # ISA06 / GS02 / NM109 of 1000A
    contact_name: str
    contact_phone: str  # 10 digits
    receiver_name: str
    receiver_id: str  # ISA08 / GS03 / NM109 of 1000B


@dataclass(frozen=True)
class BillingProvider:
    """Loop 2010AA."""

    name: str
    npi: str
    tin: str
    taxonomy_code: str
    address: PostalAddress


@dataclass(frozen=True)
class RenderingProvider:
    """Loop 2310B: a person."""

    name: PersonName
    npi: str
    taxonomy_code: str


@dataclass(frozen=True)
class ServiceFacility:
    """Loop 2310C: written when the place differs from the billing provider's address."""

    name: str
    address: PostalAddress
    npi: str | None = None


@dataclass(frozen=True)
class Subscriber:
    """Loop 2000B/2010BA/2010BB: the insured and their payer."""

    payer_responsibility: str  # SBR01: "P" primary, "S" secondary, "T" tertiary
    relationship: str  # SBR02 when the patient is the subscriber ("18"), else "" (2000C)
    group_number: str
    claim_filing_indicator: str  # SBR09
    member_id: str
    person: Person
    payer_name: str
    payer_id: str  # NM109 of 2010BB


@dataclass(frozen=True)
class Patient:
    """Loop 2000C/2010CA, when the patient is not the subscriber."""

    relationship: str  # PAT01: "01" spouse, "19" child, "G8" other
    person: Person


@dataclass(frozen=True)
class LineAdjudication:
    """Loop 2430: how another payer adjudicated this line (on a secondary claim)."""

    payer_id: str
    paid_cents: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    adjustments: tuple[Adjustment, ...]
    adjudicated_on: date


@dataclass(frozen=True)
class ServiceLine:
    """Loop 2400."""

    control_number: str  # REF*6R: how a remittance names this line
    code: str  # HCPCS/CPT (SV101 qualifier HC)
    modifiers: tuple[str, ...]
    charge_cents: int  # the line's total (fee x units)
    units: int
    diagnosis_pointers: tuple[int, ...]  # 1-based into the claim's diagnoses
    date_of_service: date
    prior_adjudications: tuple[LineAdjudication, ...] = ()


@dataclass(frozen=True)
class OtherSubscriber:
    """Loop 2320/2330A/2330B: another payer's coverage, and on a secondary claim what that
    payer paid (AMT*D) and adjusted at claim level (CAS)."""

    payer_responsibility: str  # SBR01 of 2320
    relationship: str  # SBR02: the patient to this subscriber ("18" self, "01", "19", "G8")
    group_number: str
    claim_filing_indicator: str
    member_id: str
    name: PersonName
    payer_name: str
    payer_id: str
    paid_cents: int | None = None  # None: not adjudicated (no AMT*D)
    adjustments: tuple[Adjustment, ...] = ()
    adjudicated_on: date | None = None


@dataclass(frozen=True)
class Claim:
    """Loop 2300 with everything under its subscriber."""

    claim_id: str  # CLM01
    billing_provider: BillingProvider  # the writer opens one 2000A loop per billing provider
    total_cents: int  # CLM02: the sum of the lines
    place_of_service: str  # CLM05-1
    frequency: str  # CLM05-3: "1", "7", "8"
    diagnoses: tuple[str, ...]  # ICD-10-CM without the dot; first is principal (ABK)
    subscriber: Subscriber
    patient: Patient | None  # None: the patient is the subscriber
    rendering: RenderingProvider | None
    facility: ServiceFacility | None
    lines: tuple[ServiceLine, ...]
    payer_claim_control_number: str | None = None  # REF*F8 on a replacement or void
    other_subscribers: tuple[OtherSubscriber, ...] = ()


@dataclass(frozen=True)
class ClaimFile:
    """One interchange holding one functional group and one 837P transaction: every claim of
    one batch (one payer), grouped under their billing providers."""

    interchange_control_number: int
    group_control_number: int
    created_at: datetime  # ISA09/10, GS04/05, BHT04/05 (its own zone's wall time)
    usage: str  # ISA15: "T" or "P"
    submitter: Submitter
    claims: tuple[Claim, ...]
    batch_id: str  # BHT03
