"""Stream names: a patient's channel consent, an appointment's messages, one response's
disclosures."""

from __future__ import annotations


def consent(tenant: str, patient_id: str) -> str:
    """A patient's channel consent and preference (`consent.consent`)."""
    return f"{tenant}:engagement-patient:{patient_id}"


def appointment(tenant: str, appointment_id: str) -> str:
    """An appointment's messages (`reminders.appointment_messages`)."""
    return f"{tenant}:engagement-appointment:{appointment_id}"


def record_access(tenant: str, access_id: str) -> str:
    """One response's disclosures of patients' engagement records (PatientRecordAccessed)."""
    return f"{tenant}:record-access:{access_id}"
