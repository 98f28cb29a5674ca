"""What finance publishes: every event it records, on `medoffice.finance.events`.

The one module of finance that another service may import (tests/unit/test_architecture.py).
Finance consumes billing's events (posted payments and adjustments become revenue) and
scheduling's (completed visits, for cost per visit), and records what it learns on its own
streams. The models live in `domain/`; this module is their published surface, pinned by
tests/unit/test_contracts.py. A changed meaning is a new version with an upcaster.

Money is integer cents. A vendor's tax id (`Phi`) travels sealed (`Sealed`) under the
vendor's own key, named by `vendor_id`.
"""

from __future__ import annotations

from services.finance.domain.events import (
    Account,
    BudgetApproved,
    BudgetDrafted,
    BudgetLine,
    BudgetRevised,
    ChargeLearnt,
    ChartOfAccountsSet,
    ClaimLearnt,
    CostCentre,
    CostCentresSet,
    InvoiceApproved,
    InvoiceLine,
    InvoicePaid,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceReleasedFromRun,
    InvoiceScheduledForPayment,
    InvoiceVoided,
    JournalLine,
    PatientPaymentLearnt,
    PayerClassLearnt,
    PaymentRunAbandoned,
    PaymentRunCompleted,
    PaymentRunStarted,
    PayrollJournalPosted,
    RevenueRecognised,
    RunInvoice,
    VendorRegistered,
    registry,
)
from shared.contracts import Contract
from shared.phi import Sealed

EVENTS = registry.events()  # every event finance records, as its registry decodes them

CONTRACT = Contract(
    context="finance",
    summary="Chart of accounts, budgets, accounts payable, payment runs, payroll and revenue.",
    events=EVENTS,
    registry=registry,
    consumes=("finance", "billing", "scheduling"),
)

__all__ = [
    "CONTRACT",
    "EVENTS",
    "Sealed",
    "registry",
    # accounts and budgets
    "Account",
    "BudgetApproved",
    "BudgetDrafted",
    "BudgetLine",
    "BudgetRevised",
    "ChartOfAccountsSet",
    "CostCentre",
    "CostCentresSet",
    # payables and payment runs
    "InvoiceApproved",
    "InvoiceLine",
    "InvoicePaid",
    "InvoiceReceived",
    "InvoiceRejected",
    "InvoiceReleasedFromRun",
    "InvoiceScheduledForPayment",
    "InvoiceVoided",
    "PaymentRunAbandoned",
    "PaymentRunCompleted",
    "PaymentRunStarted",
    "RunInvoice",
    "VendorRegistered",
    # actuals
    "JournalLine",
    "PayrollJournalPosted",
    "RevenueRecognised",
    # learnt from billing
    "ChargeLearnt",
    "ClaimLearnt",
    "PatientPaymentLearnt",
    "PayerClassLearnt",
]
