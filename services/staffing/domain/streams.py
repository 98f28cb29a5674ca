"""Stream names: each invariant lives in one stream (an employee's job and details, one
credential's life, one time-off request, a provider's enrolment with one payer)."""

from __future__ import annotations


def employee(tenant: str, employee_id: str) -> str:
    return f"{tenant}:employee:{employee_id}"


def credential(tenant: str, credential_id: str) -> str:
    return f"{tenant}:credential:{credential_id}"


def enrolment(tenant: str, employee_id: str, payer_id: str) -> str:
    return f"{tenant}:enrolment:{employee_id}:{payer_id}"


def time_off(tenant: str, request_id: str) -> str:
    return f"{tenant}:time-off:{request_id}"


def personal_access(tenant: str, access_id: str) -> str:
    """One response's record of disclosing employees' personal data."""
    return f"{tenant}:personal-access:{access_id}"
