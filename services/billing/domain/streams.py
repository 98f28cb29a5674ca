"""Stream names: each invariant lives in one stream.

- a payer's definition, a site's billing provider, a payer's fee schedule versions;
- what billing learnt of a patient (demographics, coverages) and of a rendering provider
  (name, NPI, enrolments with payers);
- a charge (one per completed visit: its id is the appointment's), a claim;
- the tenant's claim files: the one stream that hands out ISA/GS control numbers (unique and
  increasing) and keeps a claim out of two open files.
"""

from __future__ import annotations

from shared.events import DomainEvent


def payer(tenant: str, payer_id: str) -> str:
    return f"{tenant}:payer:{payer_id}"


def billing_provider(tenant: str, site_id: str) -> str:
    return f"{tenant}:billing-provider:{site_id}"


def fee_schedule(tenant: str, payer_id: str) -> str:
    """Every version of one payer's (or self-pay's) fee schedule."""
    return f"{tenant}:fee-schedule:{payer_id}"


def patient_account(tenant: str, patient_id: str) -> str:
    """What billing knows of a patient: demographics and coverages, learnt from scheduling."""
    return f"{tenant}:patient-account:{patient_id}"


def rendering_provider(tenant: str, provider_id: str) -> str:
    """What billing knows of a provider: name, NPI, taxonomy and payer enrolments."""
    return f"{tenant}:rendering-provider:{provider_id}"


def charge(tenant: str, charge_id: str) -> str:
    return f"{tenant}:charge:{charge_id}"


def claim(tenant: str, claim_id: str) -> str:
    return f"{tenant}:claim:{claim_id}"


def claim_files(tenant: str) -> str:
    """The tenant's 837P files: control numbers and which claims each holds."""
    return f"{tenant}:claim-files"


def tags(tenant: str, event: DomainEvent) -> tuple[str, ...]:
    """The tags of the commit that records `event`: a patient's ledger is tagged when it is
    owed or paid something (the monthly statement run finds the ledgers by it)."""
    if type(event).__name__ in _LEDGER_TAGGED:
        return (patient_ledgers_tag(tenant),)
    return ()


_LEDGER_TAGGED = frozenset({"PatientResponsibilityAssessed", "PatientPaymentReceived"})


def patient_ledgers_tag(tenant: str) -> str:
    return f"{tenant}:patient-ledgers"


# ----------------------------------------------------------------------------- learning, charges


def record_access(tenant: str, access_id: str) -> str:
    """One response's disclosures of patients' billing records (PatientRecordAccessed)."""
    return f"{tenant}:record-access:{access_id}"


def site(tenant: str, site_id: str) -> str:
    """What billing knows of a site of scheduling's: its time zone."""
    return f"{tenant}:site:{site_id}"


# ----------------------------------------------------------------------------- claims (area 5)


def claims_access(tenant: str, access_id: str) -> str:
    """One response's disclosures of claims (and claim files): written in one commit."""
    return f"{tenant}:claims-access:{access_id}"


# ----------------------------------------------------------------------- clearinghouse (area 6)


def clearinghouse_inbox(tenant: str) -> str:
    """The acknowledgement files billing could not take: the rejected-files list."""
    return f"{tenant}:clearinghouse-inbox"


# ----------------------------------------------------------------------------- billing II


def remittance(tenant: str, remittance_id: str) -> str:
    """One payment's remittance (payer and trace number): taken in once, its claims posted."""
    return f"{tenant}:remittance:{remittance_id}"


def provider_account(tenant: str, provider_id: str) -> str:
    """A payee's provider-level adjustments (PLB), by its NPI or TIN as the payer names it."""
    return f"{tenant}:provider-account:{provider_id}"


def patient_ledger(tenant: str, patient_id: str) -> str:
    """What a patient owes and paid: responsibility, payments, refunds, write-offs, plans,
    statements and collection stages."""
    return f"{tenant}:patient-ledger:{patient_id}"
