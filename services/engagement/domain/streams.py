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


def survey(tenant: str, survey_id: str) -> str:
    """The satisfaction survey about one completed visit (`surveys.survey`); its id is the
    appointment's."""
    return f"{tenant}:engagement-survey:{survey_id}"


def case(tenant: str, case_id: str) -> str:
    """A feedback case (`cases.feedback_case`)."""
    return f"{tenant}:engagement-case:{case_id}"


def site(tenant: str, site_id: str) -> str:
    """What engagement learnt of a site of scheduling's (`sites.site`)."""
    return f"{tenant}:engagement-site:{site_id}"


def recall(tenant: str, patient_id: str) -> str:
    """A patient's recall (`recalls.recall`)."""
    return f"{tenant}:engagement-recall:{patient_id}"


def recall_rule(tenant: str, visit_type_id: str) -> str:
    """The recall rule of a visit type (`recall_rules.recall_rule`)."""
    return f"{tenant}:engagement-recall-rule:{visit_type_id}"
