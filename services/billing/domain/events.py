"""Billing events that cross areas within billing or leave it: reference data, what billing
learnt from scheduling and staffing, charges, claims and claim files.

Money is integer cents. Fields added after an event type was first recorded have defaults, so
every stored version still decodes. Each area's own events (work it alone records) live beside
its decider and register in the same `registry`.

PHI (patients' names, birth dates, addresses, member ids) is sealed under the patient's key
(`phi_subject = "patient_id"`), as scheduling sealed it: billing copies the sealed values it
learns without opening them, and opens them only to write a claim file.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.events import DomainEvent, EventRegistry
from shared.phi import Phi, PhiEvent

SELF_PAY = "self-pay"  # the payer id of the self-pay fee schedule and of uninsured charges


class BillingEvent(DomainEvent):
    context: ClassVar[str] = "billing"


class PostalAddress(BaseModel):
    """A US postal address as X12 N3/N4 carry it: ZIP of 5 or 9 digits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line1: str
    line2: str = ""
    city: str
    state: str  # two letters
    postal_code: str  # 5 or 9 digits, no dash


# ----------------------------------------------------------------------------- reference data


class PayerDefined(BillingEvent):
    """A payer the group bills (or its details changed: the latest definition holds)."""

    payer_id: str  # the group's id for it: scheduling's coverage `payer_id`
    name: str
    x12_payer_id: str  # the clearinghouse's payer id (NM109 of loop 2010BB)
    # SBR09: CI commercial, MB Medicare part B, MC Medicaid, BL Blue Cross, HM HMO, ...
    claim_filing_indicator: str
    defined_at: AwareDatetime


class BillingProviderSet(BillingEvent):
    """Who bills for a site's visits (loop 2010AA) and where the site is (loop 2310C)."""

    site_id: str
    name: str  # the billing organisation
    npi: str
    tin: str  # employer identification number, 9 digits
    taxonomy_code: str
    address: PostalAddress  # no PO box (2010AA)
    place_of_service: str  # CMS two-digit code, e.g. "11" office
    facility_name: str  # the site, as the service facility
    facility_address: PostalAddress
    set_at: AwareDatetime


class Fee(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str  # CPT or HCPCS
    modifier: str = ""  # a fee for the code with this modifier; "" for any
    amount_cents: int


class FeeScheduleVersionPublished(BillingEvent):
    """A payer's (or self-pay's) fees from `effective_from`: a new version never changes what
    an earlier charge was billed at."""

    payer_id: str  # or SELF_PAY
    schedule_version: int  # 1, 2, ... per payer
    effective_from: date
    fees: tuple[Fee, ...]
    published_at: AwareDatetime


# ------------------------------------------------------------------ learnt from other services
# On billing's own streams, so commands decide from billing's event store: `learnt_from` is the
# id of the scheduling or staffing event a fact came from (a redelivery learns nothing new).


class PatientLearnt(BillingEvent, PhiEvent):
    """A patient's demographics as scheduling recorded them (sealed values copied as sealed)."""

    patient_id: str
    name: Phi
    birth_date: Phi  # ISO date
    sex: Phi = ""  # "female", "male", "other", "unknown" or "" (not given)
    address: Phi = ""  # free text as registered: "line, city, ST 12345"
    learnt_from: str


class CoverageLearnt(BillingEvent, PhiEvent):
    """An insurance coverage of a patient, in the order the patient's payers pay (priority)."""

    patient_id: str
    coverage_id: str
    payer_id: str
    plan: str
    priority: int = 1  # 1 primary, 2 secondary, 3 tertiary
    relationship: str  # the patient to the subscriber: self, spouse, child, other
    member_id: Phi
    subscriber_name: Phi = ""  # "" when the patient is the subscriber
    group_number: str = ""
    learnt_from: str


class PatientForgottenLearnt(BillingEvent):
    patient_id: str
    learnt_from: str


class ProviderLearnt(BillingEvent):
    """A rendering provider's name, NPI and taxonomy (from staffing; None: not known yet)."""

    provider_id: str  # staffing's employee id, scheduling's provider id
    name: str | None = None
    npi: str | None = None
    taxonomy_code: str | None = None
    learnt_from: str


class EnrolmentLearnt(BillingEvent):
    """A provider's enrolment with a payer: claimable only while `enrolled` on the day."""

    provider_id: str
    payer_id: str
    status: Literal["applied", "enrolled", "denied", "terminated"]
    effective_from: date
    effective_until: date | None = None
    learnt_from: str


# ----------------------------------------------------------------------------- charges


class CodingIssue(BaseModel):
    """What the coding checks found wrong with a charge, in a biller's words (`domain/coding.py`):
    the line it is on (None: the charge's diagnoses as a whole) and the code concerned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: str | None
    code: str
    problem: str


class ChargeLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: str  # stable within the charge: "1", "2", ...
    code: str  # CPT or HCPCS
    modifiers: tuple[str, ...] = ()  # up to 4, two characters each
    units: int = 1
    diagnosis_pointers: tuple[int, ...]  # 1-based into the charge's diagnoses, up to 4
    fee_cents: int  # per unit, from the fee schedule in force on the date of service


class ChargeCreated(BillingEvent):
    """A completed visit's charge: one line per procedure, priced on the date of service."""

    charge_id: str  # the appointment id: one charge per visit
    appointment_id: str
    patient_id: str
    site_id: str
    provider_id: str  # rendering
    date_of_service: date
    diagnoses: tuple[str, ...]  # ICD-10-CM, up to 12, in pointer order
    lines: tuple[ChargeLine, ...]
    payer_id: str  # the payer whose schedule priced it: the primary coverage's, or SELF_PAY
    fee_schedule_version: int | None  # None: no schedule in force (lines priced 0, held)
    created_at: AwareDatetime
    learnt_from: str  # the VisitCompleted event's id
    issues: tuple[CodingIssue, ...] = ()  # what the coding checks found then (held if any)


class ChargeCorrected(BillingEvent):
    """A biller changed the codes: the whole new set of diagnoses and lines. Or billing repriced
    a self-pay charge under a coverage it learnt later (reason "coverage learnt", `payer_id`
    the payer whose schedule priced it now; None: the payer is unchanged)."""

    charge_id: str
    diagnoses: tuple[str, ...]
    lines: tuple[ChargeLine, ...]
    reason: str
    corrected_at: AwareDatetime
    issues: tuple[CodingIssue, ...] = ()  # what the coding checks found in the new codes
    learnt_from: str | None = None  # a repricing's coverage fact (CoverageLearnt.learnt_from)
    # The version that priced the new lines: the charge's own, or, for a charge made when no
    # schedule was in force, the one in force on its date of service now (None: still none).
    fee_schedule_version: int | None = None
    payer_id: str | None = None


class ChargeHeld(BillingEvent):
    charge_id: str
    reason: str  # "coding" when the coding checks found problems; else the biller's words
    held_at: AwareDatetime


class ChargeReleased(BillingEvent):
    """Clean and let go: claims may be made from it."""

    charge_id: str
    released_at: AwareDatetime


# ----------------------------------------------------------------------------- claims

Frequency = Literal["1", "7", "8"]  # CLM05-3: original, replacement, void


class ClaimCreated(BillingEvent):
    """A claim to one payer for one patient's released charges (draft)."""

    claim_id: str  # CLM01: stable, at most 20 characters
    patient_id: str
    payer_id: str
    coverage_id: str
    priority: int  # 1: to the primary payer, 2: secondary, ...
    site_id: str
    provider_id: str  # rendering
    charge_ids: tuple[str, ...]
    total_cents: int  # CLM02: the sum of the lines' charges
    frequency: Frequency = "1"
    replaces: str | None = None  # the claim id a replacement or void stands for
    payer_claim_control_number: str | None = None  # of the claim replaced or voided (REF*F8)
    created_at: AwareDatetime
    primary_claim_id: str | None = None  # a secondary claim: the claim the primary adjudicated


class ClaimReady(BillingEvent):
    """Checked (billing provider, coverage, enrolment, coding) and waiting for a file."""

    claim_id: str
    ready_at: AwareDatetime


class ClaimSubmitted(BillingEvent):
    """Put in a claim file (its batch) that was sent to the clearinghouse."""

    claim_id: str
    batch_id: str
    submitted_at: AwareDatetime


class ClaimAccepted(BillingEvent):
    """The payer or clearinghouse accepted it for adjudication (277CA)."""

    claim_id: str
    accepted_at: AwareDatetime
    payer_claim_control_number: str | None = None  # when the 277CA gives one (REF*1K)


class ClaimRejected(BillingEvent):
    """Refused before adjudication: the file (999) or the claim (277CA), with the reasons."""

    claim_id: str
    reasons: tuple[str, ...]
    rejected_at: AwareDatetime


class Adjustment(BaseModel):
    """A CAS adjustment: group (CO, PR, OA, PI), reason (CARC), amount and units."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: Literal["CO", "PR", "OA", "PI", "CR"]
    reason: str
    amount_cents: int
    quantity: int | None = None


class LineAdjudication(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: str  # the REF*6R line item control number's line
    code: str
    paid_cents: int
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # RARC


class ClaimAdjudicated(BillingEvent):
    """The payer's decision (from a remittance or a paper EOB): what it paid and why not more."""

    claim_id: str
    outcome: Literal["paid", "partially_paid", "denied"]
    paid_cents: int
    patient_responsibility_cents: int
    payer_claim_control_number: str  # CLP07
    adjustments: tuple[Adjustment, ...] = ()  # claim level
    lines: tuple[LineAdjudication, ...] = ()
    adjudicated_on: date
    recorded_at: AwareDatetime
    # From a remittance (billing II): the posting's id (what a reversal names), the
    # remittance, CLP02 and the claim-level remarks; None/empty for a paper EOB keyed in.
    posting_id: str | None = None
    remittance_id: str | None = None
    claim_status_code: str | None = None
    remarks: tuple[str, ...] = ()


class ClaimAppealed(BillingEvent):
    claim_id: str
    reason: str
    appealed_at: AwareDatetime


class ClaimWrittenOff(BillingEvent):
    claim_id: str
    reason: str
    amount_cents: int
    written_off_at: AwareDatetime


class ClaimReplaced(BillingEvent):
    """A replacement (7) or void (8) was made for it: the new claim's id."""

    claim_id: str
    by_claim_id: str
    frequency: Frequency
    replaced_at: AwareDatetime


# ----------------------------------------------------------------------------- claim files


class StreamVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stream: str
    version: int


class BatchSubmitter(BaseModel):
    """Loops 1000A/1000B as a file was written (from settings then)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    contact_name: str
    contact_phone: str
    receiver_id: str
    receiver_name: str


class ClaimBatchCreated(BillingEvent):
    """An 837P file for one payer: its control numbers, unique and increasing per tenant.

    The file is not stored (it holds many patients' PHI under no one key): it is written again,
    byte for byte, from the claims' events and `created_at`, and checked against `digest`."""

    batch_id: str
    payer_id: str
    interchange_control_number: int  # ISA13
    group_control_number: int  # GS06
    claim_ids: tuple[str, ...]
    usage: Literal["T", "P"] = "P"  # ISA15: test or production
    created_at: AwareDatetime
    digest: str  # SHA-256 of the file's bytes, hex
    # What it was written from, so it is written again the same: each stream's version read
    # (claims, charges, accounts, providers, payers, billing providers), and who submitted.
    sources: tuple[StreamVersion, ...] = ()
    submitter: BatchSubmitter | None = None


class ClaimBatchSent(BillingEvent):
    batch_id: str
    file_name: str
    sent_at: AwareDatetime


class ClaimBatchAcknowledged(BillingEvent):
    """The clearinghouse's 999 for the file: accepted (A), with errors (E), rejected (R), or
    partly accepted (P)."""

    batch_id: str
    code: Literal["A", "E", "R", "P"]
    errors: tuple[str, ...] = ()
    acknowledged_at: AwareDatetime


# ----------------------------------------------------------------------------- disclosures


class PatientRecordAccessed(BillingEvent):
    """A billing response disclosed a patient's record (claims, charges, coverage)."""

    patient_id: str
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


# ------------------------------------------------------------- reference data (billing-reference)


class PlanDefined(BillingEvent):
    """A plan of a payer (or its details changed: the latest definition of a plan holds), on
    the payer's stream. Its claim filing indicator, when given, is the plan's SBR09 instead of
    the payer's (a payer's Medicare Advantage plan next to its commercial ones)."""

    payer_id: str
    plan_id: str
    name: str
    claim_filing_indicator: str | None = None
    defined_at: AwareDatetime


# ----------------------------------------------------------------------------- charges (area 3)


class SiteZoneLearnt(BillingEvent):
    """A site's time zone, learnt from scheduling's `SiteRegistered`: a visit's date of service
    is its date at its site."""

    site_id: str
    time_zone: str  # IANA, e.g. "America/New_York"
    learnt_from: str


# ----------------------------------------------------------------------------- claims (area 5)


class ClaimNotReady(BillingEvent):
    """A claim's checks found problems (a work queue): it stays draft (or rejected) until a
    re-check finds none."""

    claim_id: str
    problems: tuple[str, ...]
    checked_at: AwareDatetime


# ----------------------------------------------------------------------- clearinghouse (area 6)


class ClearinghouseFileRejected(BillingEvent):
    """An acknowledgement file from the clearinghouse that billing could not take (not a 999
    or 277CA it reads, or naming no claim file or claim of the tenant's): listed for a biller,
    moved aside, never read again. The file stays on the clearinghouse's side, in its done
    folder; nothing of its contents is copied here (it may hold PHI)."""

    file_name: str
    digest: str  # SHA-256 of its bytes, hex
    reason: str  # what billing found wrong, in its own words (never the file's contents)
    rejected_at: AwareDatetime


# ------------------------------------------------------------------ remittances (billing II)


def remittance_id_for(x12_payer_id: str, trace_number: str) -> str:
    """A payment's id: the same payer and trace number (TRN02) always give the same one."""
    digest = hashlib.sha256(f"{x12_payer_id}\x1f{trace_number}".encode()).hexdigest()
    return "R" + digest[:23].upper()


class RemittanceReceived(BillingEvent):
    """An 835 transaction (one payment to one payee) taken in, checked and balanced, on
    `streams.remittance`: its claims are posted next. Taking the same payment again (the same
    payer and trace number, whatever file it came in) records nothing. No patient names here:
    the file is not stored; what posting needs is on `RemittanceClaimsReceived`."""

    remittance_id: str  # `remittance_id_for(x12_payer_id, trace_number)`
    digest: str  # SHA-256 of the file's bytes, hex
    file_name: str
    source: Literal["clearinghouse", "upload"]
    payer_id: str | None  # the group's payer, matched by its X12 payer id (None: not known)
    x12_payer_id: str
    payer_name: str
    trace_number: str  # TRN02: check or EFT number
    handling_code: str  # BPR01
    payment_method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    payment_cents: int  # BPR02 (negative for a debit)
    paid_on: date | None  # BPR16
    payee_npi: str | None
    claim_count: int
    warnings: tuple[str, ...] = ()  # what the file got wrong that does not change the money
    received_at: AwareDatetime
    provider_adjustments: int = 0  # its PLB adjustments, posted before it was recorded


class RemittedClaim(BaseModel):
    """One CLP loop as posting needs it (the 835's model, `x12/remittance.py`, without names)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_ref: str  # CLP01
    status_code: str  # CLP02
    charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    payer_claim_control_number: str  # CLP07
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()
    lines: tuple[LineAdjudication, ...] = ()  # line_id from REF*6R ("" when not echoed)


class RemittanceClaimsReceived(BillingEvent):
    """The claims of a remittance, in order, in parts of at most 100 (an event stays small),
    recorded in the same commit as `RemittanceReceived`."""

    remittance_id: str
    first_index: int  # the position of `claims[0]` in the file's claims, from 0
    claims: tuple[RemittedClaim, ...]


class RemittanceClaimUnmatched(BillingEvent):
    """A claim payment that matched no claim of ours (or a claim in no state to take it): it
    waits in the unmatched-remittance queue, never guessed."""

    remittance_id: str
    index: int
    claim_ref: str
    payer_claim_control_number: str
    paid_cents: int
    reason: str
    found_at: AwareDatetime


class RemittanceClaimMatched(BillingEvent):
    """A biller resolved an unmatched claim payment: posted to the claim named (the one CLP01
    names once it can take it, or another the biller found), and off the queue."""

    remittance_id: str
    index: int
    claim_id: str
    matched_by: str
    matched_at: AwareDatetime


class RemittancePosted(BillingEvent):
    """Every claim of the remittance was posted, found posted before, or queued unmatched."""

    remittance_id: str
    posted: int
    already_posted: int
    unmatched: int
    provider_adjustments: int
    posted_at: AwareDatetime


class ClaimAdjudicationReversed(BillingEvent):
    """The payer took an adjudication back (CLP02 22): its payment, adjustments and patient
    responsibility are undone, on the claim's stream; a correction, if any, posts anew."""

    claim_id: str
    posting_id: str  # this reversal's
    reverses: str  # the posting id of the adjudication taken back
    remittance_id: str
    payer_claim_control_number: str
    paid_cents: int  # what was taken back (positive)
    patient_responsibility_cents: int  # what the patient no longer owes (positive)
    reversed_on: date
    recorded_at: AwareDatetime


class ProviderAdjustmentPosted(BillingEvent):
    """A PLB adjustment posted to the payee's provider account (`streams.provider_account`):
    interest, offsets, recoupments, forwarding balances; positive amounts reduce a payment."""

    adjustment_id: str  # `remittance_id` and its position in the file: posted once
    remittance_id: str
    payer_id: str | None
    provider_id: str  # PLB01: NPI or TIN
    fiscal_period_end: date
    reason: str  # PLB03-1
    reference: str  # PLB03-2
    amount_cents: int
    posted_at: AwareDatetime


# ------------------------------------------------------------------- the patient's side


class PatientResponsibilityAssessed(BillingEvent):
    """What a patient owes for a visit (or no longer owes: a negative amount), on
    `streams.patient_ledger`: from an adjudication's patient responsibility, its reversal, or
    a self-pay charge. Recorded once per `learnt_from`."""

    patient_id: str
    entry_id: str
    charge_id: str
    claim_id: str | None  # None: a self-pay charge
    site_id: str
    provider_id: str
    date_of_service: date
    amount_cents: int
    reason: Literal["deductible", "coinsurance", "copay", "not_covered", "self_pay", "other"]
    learnt_from: str  # the event's id it was assessed from
    assessed_at: AwareDatetime


PaymentMethod = Literal["cash", "card", "check", "online"]


class PatientPaymentReceived(BillingEvent):
    """A patient paid: at the desk (a copay at check-in), by post, or online."""

    patient_id: str
    payment_id: str  # the client's id: the same payment sent twice records once
    amount_cents: int
    method: PaymentMethod
    reference: str = ""  # card authorisation or last four, check number; never a card number
    kind: Literal["copay", "payment", "prepayment"] = "payment"
    appointment_id: str | None = None
    charge_id: str | None = None  # applied to this visit; None: oldest balance first
    site_id: str
    received_by: str
    received_at: AwareDatetime


class PatientRefunded(BillingEvent):
    patient_id: str
    refund_id: str
    amount_cents: int
    method: PaymentMethod
    reference: str = ""
    reason: str
    refunded_by: str
    refunded_at: AwareDatetime
    payment_id: str | None = None  # the payment refunded (at most what it paid); None: credit


class PatientBalanceWrittenOff(BillingEvent):
    patient_id: str
    write_off_id: str
    amount_cents: int
    reason: Literal["small_balance", "hardship", "bad_debt", "courtesy", "other"]
    note: str = ""
    charge_id: str | None = None
    written_off_by: str
    written_off_at: AwareDatetime


class PaymentPlanAgreed(BillingEvent):
    patient_id: str
    plan_id: str
    total_cents: int
    installment_cents: int
    first_due_on: date
    agreed_by: str
    agreed_at: AwareDatetime


class PaymentPlanEnded(BillingEvent):
    patient_id: str
    plan_id: str
    outcome: Literal["paid", "cancelled", "defaulted"]
    ended_at: AwareDatetime


class StatementIssued(BillingEvent):
    """A monthly statement (PDF) for a patient: it is written again from the ledger's events
    up to `as_of`, byte for byte, and checked against `digest`."""

    patient_id: str
    statement_id: str
    period_end: date
    as_of: AwareDatetime
    balance_cents: int
    due_on: date
    digest: str
    issued_at: AwareDatetime


class CollectionStageChanged(BillingEvent):
    patient_id: str
    stage: Literal["current", "statement", "reminder", "final_notice", "collections", "plan"]
    reason: str
    changed_at: AwareDatetime


registry = EventRegistry(
    (
        PayerDefined,
        BillingProviderSet,
        FeeScheduleVersionPublished,
        PatientLearnt,
        CoverageLearnt,
        PatientForgottenLearnt,
        ProviderLearnt,
        EnrolmentLearnt,
        ChargeCreated,
        ChargeCorrected,
        ChargeHeld,
        ChargeReleased,
        ClaimCreated,
        ClaimReady,
        ClaimSubmitted,
        ClaimAccepted,
        ClaimRejected,
        ClaimAdjudicated,
        ClaimAppealed,
        ClaimWrittenOff,
        ClaimReplaced,
        ClaimBatchCreated,
        ClaimBatchSent,
        ClaimBatchAcknowledged,
        PatientRecordAccessed,
        PlanDefined,  # billing-reference
        SiteZoneLearnt,  # charges
        ClaimNotReady,
        ClearinghouseFileRejected,  # clearinghouse (area 6)
        RemittanceReceived,  # billing II
        RemittanceClaimsReceived,
        RemittanceClaimUnmatched,
        RemittanceClaimMatched,
        RemittancePosted,
        ClaimAdjudicationReversed,
        ProviderAdjustmentPosted,
        PatientResponsibilityAssessed,
        PatientPaymentReceived,
        PatientRefunded,
        PatientBalanceWrittenOff,
        PaymentPlanAgreed,
        PaymentPlanEnded,
        StatementIssued,
        CollectionStageChanged,
    )
)
