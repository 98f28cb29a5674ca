"""Finance events: the chart of accounts, budgets, vendors and their invoices, payment runs,
payroll journals and revenue learnt from billing.

Money is integer cents, as billing's is (finance adds billing's amounts up unchanged): a
`*_cents` field is never a float. Months are the first day of the month (`date`). Business
dates (received, due, paid, voided) are dates the practice manager names; `*_at` fields are
when it was recorded. Fields added after an event type was first recorded get defaults, so
every stored version still decodes.

A vendor's tax id (EIN or SSN of a sole proprietor) is sealed like personal data, under the
vendor's own key (`phi_subject = "vendor_id"`): forgetting a vendor destroys it.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.events import DomainEvent, EventRegistry
from shared.phi import Phi, PhiEvent


class FinanceEvent(DomainEvent):
    context: ClassVar[str] = "finance"


class Part(BaseModel):
    """A value inside an event: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# ----------------------------------------------------------------------------- accounts

AccountKind = Literal["revenue", "expense"]
# Revenue accounts by payer class; expense accounts by what the money buys.
AccountCategory = Literal[
    "commercial",
    "medicare",
    "medicaid",
    "self_pay",
    "other_payer",
    "salaries",
    "supplies",
    "rent",
    "equipment",
    "it",
    "insurance",
    "other_expense",
]


class Account(Part):
    code: str  # e.g. "4100"
    name: str
    kind: AccountKind
    category: AccountCategory


class CostCentre(Part):
    """Where a site's costs and revenue are gathered: one per site."""

    cost_centre_id: str
    site_id: str
    name: str


class ChartOfAccountsSet(FinanceEvent):
    """The tenant's chart of accounts, whole (the latest holds; codes are never reused for
    another meaning, so earlier postings keep theirs)."""

    accounts: tuple[Account, ...]
    set_by: str
    set_at: AwareDatetime


class CostCentresSet(FinanceEvent):
    """The tenant's cost centres, whole: one per site."""

    cost_centres: tuple[CostCentre, ...]
    set_by: str
    set_at: AwareDatetime


# ----------------------------------------------------------------------------- budgets


class BudgetLine(Part):
    account_code: str
    month: date  # the first day of the month
    amount_cents: int


class BudgetDrafted(FinanceEvent):
    """Version 1 of a site's budget for a fiscal year (`fiscal_year` names the calendar year it
    ends in; it starts on `first_month` of the year before, or of the same year when 1)."""

    site_id: str
    fiscal_year: int
    first_month: int  # 1 (January) to 12
    budget_version: int
    lines: tuple[BudgetLine, ...]
    drafted_by: str
    drafted_at: AwareDatetime


class BudgetRevised(FinanceEvent):
    """A new version, whole: earlier versions (the approved one too) stay readable."""

    site_id: str
    fiscal_year: int
    budget_version: int
    lines: tuple[BudgetLine, ...]
    reason: str
    revised_by: str
    revised_at: AwareDatetime


class BudgetApproved(FinanceEvent):
    """A manager approved one version: the site's budget from now on, until another is."""

    site_id: str
    fiscal_year: int
    budget_version: int
    approved_by: str
    approved_at: AwareDatetime


# ----------------------------------------------------------------------------- payables

Terms = Literal["due_on_receipt", "net_10", "net_15", "net_30", "net_45", "net_60", "net_90"]


class VendorRegistered(FinanceEvent, PhiEvent):
    phi_subject: ClassVar[str] = "vendor_id"

    vendor_id: str
    name: str
    tax_id: Phi
    terms: Terms
    registered_by: str
    registered_at: AwareDatetime


class InvoiceLine(Part):
    account_code: str  # an expense account
    site_id: str
    amount_cents: int
    description: str = ""


class InvoiceReceived(FinanceEvent):
    """A vendor's invoice, entered by `received_by`: on the vendor's stream, with every other
    invoice of the vendor (duplicates are found there)."""

    vendor_id: str
    invoice_id: str
    invoice_number: str  # as the vendor printed it
    invoice_date: date
    received_on: date
    terms: Terms
    due_on: date
    lines: tuple[InvoiceLine, ...]
    total_cents: int
    approvals_needed: int  # 1, or 2 over the second-approval limit
    received_by: str
    received_at: AwareDatetime


class InvoiceApproved(FinanceEvent):
    """One approval. The invoice is approved (payable) when `approvals_given` reaches
    `approvals_needed`, each from a different person, none of them who entered it."""

    vendor_id: str
    invoice_id: str
    approved_by: str
    approvals_given: int
    approvals_needed: int
    approved_at: AwareDatetime


class InvoiceRejected(FinanceEvent):
    vendor_id: str
    invoice_id: str
    reason: str
    rejected_by: str
    rejected_on: date
    rejected_at: AwareDatetime


class InvoiceScheduledForPayment(FinanceEvent):
    """Put in a payment run: in no other open run until paid."""

    vendor_id: str
    invoice_id: str
    run_id: str
    scheduled_at: AwareDatetime


class InvoicePaid(FinanceEvent):
    """Paid once, by the run it was scheduled in."""

    vendor_id: str
    invoice_id: str
    run_id: str
    amount_cents: int
    paid_on: date
    paid_at: AwareDatetime


class InvoiceReleasedFromRun(FinanceEvent):
    """Taken back out of a payment run that was abandoned before paying it: approved again,
    in no run, so another run may pick it."""

    vendor_id: str
    invoice_id: str
    run_id: str
    released_at: AwareDatetime


class InvoiceVoided(FinanceEvent):
    """Entered in error or withdrawn by the vendor: owed no more, and no longer a duplicate's
    first."""

    vendor_id: str
    invoice_id: str
    reason: str
    voided_by: str
    voided_on: date
    voided_at: AwareDatetime


# ----------------------------------------------------------------------------- payment runs


class RunInvoice(Part):
    vendor_id: str
    invoice_id: str
    amount_cents: int
    due_on: date


class PaymentRunStarted(FinanceEvent):
    run_id: str
    pay_on: date  # pays what is due by this day
    invoices: tuple[RunInvoice, ...]
    total_cents: int
    started_by: str
    started_at: AwareDatetime


class PaymentRunCompleted(FinanceEvent):
    run_id: str
    paid: int  # invoices
    total_cents: int
    completed_at: AwareDatetime


class PaymentRunAbandoned(FinanceEvent):
    """Given up before it was completed (started or not, after a crash): it neither schedules
    nor pays any more, and the invoices scheduled in it and not paid are released."""

    run_id: str
    abandoned_by: str
    abandoned_at: AwareDatetime


# ----------------------------------------------------------------------------- actuals


class JournalLine(Part):
    site_id: str
    account_code: str
    amount_cents: int


class PayrollJournalPosted(FinanceEvent):
    """A payroll import's cost for one month, per site and account. `digest` identifies its
    lines: the same lines posted again for the month are refused."""

    journal_id: str
    month: date
    lines: tuple[JournalLine, ...]
    total_cents: int
    digest: str
    source: str  # the file's name, as uploaded
    posted_by: str
    posted_at: AwareDatetime


# "write_off": a balance billing gave up (a claim's or a patient's), not cash: kept apart from
# revenue (`domain/revenue.py`).
RevenueKind = Literal[
    "payer_payment", "patient_payment", "refund", "reversal", "adjustment", "write_off"
]


class RevenueRecognised(FinanceEvent):
    """Revenue (negative: taken back) learnt from one billing event, `learnt_from` its id: by
    date of service and by posting date, on the revenue account of its payer class. `site_id`
    empty: the group's, no one site's (a PLB adjustment, a refund of credit)."""

    learnt_from: str
    kind: RevenueKind
    site_id: str
    account_code: str
    amount_cents: int
    date_of_service: date
    posted_on: date
    recognised_at: AwareDatetime


# ----------------------------------------------------------------------------- learnt from billing
# What finance's revenue is decided with, recorded on finance's own streams when it consumes
# billing's events (`application/learning.py`), each once per billing event (`learnt_from`).


class PayerClassLearnt(FinanceEvent):
    """A billing payer's class, from its claim filing indicator (the latest holds)."""

    payer_id: str
    claim_filing_indicator: str
    payer_class: AccountCategory
    learnt_from: str


class ChargeLearnt(FinanceEvent):
    """A billing charge's site and date of service."""

    charge_id: str
    site_id: str
    date_of_service: date
    learnt_from: str


class ClaimLearnt(FinanceEvent):
    """A billing claim's site, payer and charges."""

    claim_id: str
    site_id: str
    payer_id: str
    charge_ids: tuple[str, ...]
    learnt_from: str


class PatientPaymentLearnt(FinanceEvent):
    """A patient's payment's site and day: what a refund of it takes back."""

    payment_id: str
    site_id: str
    received_on: date
    amount_cents: int
    learnt_from: str


registry = EventRegistry(
    [
        ChartOfAccountsSet,
        CostCentresSet,
        BudgetDrafted,
        BudgetRevised,
        BudgetApproved,
        VendorRegistered,
        InvoiceReceived,
        InvoiceApproved,
        InvoiceRejected,
        InvoiceScheduledForPayment,
        InvoicePaid,
        InvoiceVoided,
        InvoiceReleasedFromRun,
        PaymentRunStarted,
        PaymentRunCompleted,
        PaymentRunAbandoned,
        PayrollJournalPosted,
        RevenueRecognised,
        PayerClassLearnt,
        ChargeLearnt,
        ClaimLearnt,
        PatientPaymentLearnt,
    ]
)
