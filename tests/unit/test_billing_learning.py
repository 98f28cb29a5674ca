"""Given what billing has learnt, when it learns a fact, then what it records; and the folds
charges and claims read (a patient's account, a rendering provider), in any order of arrival."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.billing.application.learning import patient_fact, provider_fact
from services.billing.domain.accounts import PatientAccount
from services.billing.domain.events import (
    CoverageLearnt,
    EnrolmentLearnt,
    PatientForgottenLearnt,
    PatientLearnt,
    ProviderLearnt,
)
from services.billing.domain.learning import (
    LearnOfPatient,
    LearnOfProvider,
    PatientFact,
    ProviderFact,
    patient_account,
    rendering_provider,
)
from services.billing.domain.providers import RenderingProvider
from services.scheduling.contracts import CoverageRecorded
from services.staffing.contracts import (
    EmployeeHired,
    JobChanged,
    PayerEnrolmentChanged,
    ProviderDetailsRecorded,
)
from shared.domain import Invalid
from shared.events import DomainEvent
from shared.phi import Sealed


def sealed(text: str) -> Sealed:
    """A stand-in for a value scheduling sealed (billing never opens it here)."""
    return Sealed(subject="p1", nonce="bm9uY2U=", ct=text)


PATIENT = PatientLearnt(
    patient_id="p1",
    name=sealed("name"),
    birth_date=sealed("dob"),
    sex=sealed("sex"),
    learnt_from="e-registered",
)
FORGOTTEN = PatientForgottenLearnt(patient_id="p1", learnt_from="e-forgotten")


def coverage(coverage_id: str = "c1", priority: int = 1, **change: Any) -> CoverageLearnt:
    fields: dict[str, Any] = {
        "patient_id": "p1",
        "coverage_id": coverage_id,
        "payer_id": "acme-health",
        "plan": "PPO",
        "priority": priority,
        "relationship": "self",
        "member_id": sealed(f"member-{coverage_id}"),
        "learnt_from": f"e-{coverage_id}-{priority}",
        **change,
    }
    return CoverageLearnt(**fields)


def learn_patient(given: Sequence[DomainEvent], fact: PatientFact) -> list[DomainEvent]:
    state = patient_account.fold(given)
    return list(patient_account.decide(state, LearnOfPatient(patient_id="p1", fact=fact)))


def learn_provider(given: Sequence[DomainEvent], fact: ProviderFact) -> list[DomainEvent]:
    state = rendering_provider.fold(given)
    return list(rendering_provider.decide(state, LearnOfProvider(provider_id="dr-a", fact=fact)))


# ----------------------------------------------------------------------------- patients


def test_a_patient_fact_is_recorded_as_learnt_sealed_values_and_all() -> None:
    assert learn_patient([], PATIENT) == [PATIENT]
    assert learn_patient([PATIENT], coverage()) == [coverage()]
    assert learn_patient([PATIENT, coverage()], FORGOTTEN) == [FORGOTTEN]


@pytest.mark.parametrize("fact", [PATIENT, coverage(), FORGOTTEN])
def test_a_fact_learnt_already_is_not_recorded_again(fact: PatientFact) -> None:
    assert learn_patient([PATIENT, coverage(), fact], fact) == []


def test_a_coverage_learnt_before_the_registration_is_kept() -> None:
    assert learn_patient([], coverage()) == [coverage()]
    assert learn_patient([coverage()], PATIENT) == [PATIENT]
    account = patient_account.fold([coverage(), PATIENT])
    assert account.demographics == PATIENT
    assert account.primary == coverage()


def test_nothing_more_is_learnt_of_a_forgotten_patient() -> None:
    given = [PATIENT, FORGOTTEN]
    assert learn_patient(given, coverage()) == []
    again = PatientForgottenLearnt(patient_id="p1", learnt_from="e-forgotten-again")
    assert learn_patient(given, again) == []
    # Forgotten before the registration reached billing: the registration is not kept either.
    assert learn_patient([FORGOTTEN], PATIENT) == []


def test_a_fact_of_another_patient_is_refused() -> None:
    with pytest.raises(Invalid, match="a fact of patient p2"):
        learn_patient([], PATIENT.model_copy(update={"patient_id": "p2"}))


def test_the_account_keeps_one_coverage_per_priority_in_order() -> None:
    secondary = coverage("c2", priority=2, payer_id="globe")
    account = patient_account.fold([PATIENT, secondary, coverage()])
    assert [c.coverage_id for c in account.coverages] == ["c1", "c2"]
    assert account.primary == coverage()
    assert account.coverage(2) == secondary
    assert account.coverage(3) is None
    assert account.learnt == {"e-registered", "e-c1-1", "e-c2-2"}


def test_a_coverage_at_a_priority_held_replaces_the_one_there() -> None:
    # Scheduling records a new primary over the old one: billing's primary is the new one.
    new_primary = coverage("c9", payer_id="north")
    account = patient_account.fold([PATIENT, coverage(), new_primary])
    assert account.primary == new_primary
    assert [c.coverage_id for c in account.coverages] == ["c9"]


def test_a_coverage_learnt_again_under_its_id_is_updated_and_may_move() -> None:
    first, second = coverage(), coverage("c2", priority=2)
    updated = coverage("c2", priority=2, plan="HMO", learnt_from="e-c2-update")
    account = patient_account.fold([first, second, updated])
    assert account.coverages == (first, updated)
    moved = coverage("c2", priority=1, learnt_from="e-c2-moved")
    account = patient_account.fold([first, second, moved])
    assert account.coverages == (moved,)


def test_forgetting_keeps_only_what_reads_redacted_and_marks_the_account() -> None:
    account = patient_account.fold([PATIENT, coverage(), FORGOTTEN])
    assert account.forgotten
    assert account.primary == coverage()  # sealed under a destroyed key: unreadable


def test_the_account_is_the_same_whatever_order_the_facts_came_in() -> None:
    # Scheduling orders one patient's stream, but redeliveries and rebuilds may not.
    facts = [PATIENT, coverage(), coverage("c2", priority=2, payer_id="globe")]
    expected = patient_account.fold(facts)
    for order in itertools.permutations(facts):
        state = PatientAccount()
        for fact in order:
            for event in patient_account.decide(state, LearnOfPatient(patient_id="p1", fact=fact)):
                state = patient_account.evolve(state, event)
        assert state == expected


# ----------------------------------------------------------------------------- providers

HIRED = ProviderLearnt(provider_id="dr-a", name="Dr. A", learnt_from="e-hired")
DETAILS = ProviderLearnt(
    provider_id="dr-a", npi="1234567893", taxonomy_code="207Q00000X", learnt_from="e-details"
)


def enrolment(status: str, effective_from: date, **change: Any) -> EnrolmentLearnt:
    fields: dict[str, Any] = {
        "provider_id": "dr-a",
        "payer_id": "acme-health",
        "status": status,
        "effective_from": effective_from,
        "learnt_from": f"e-{status}-{effective_from}",
        **change,
    }
    return EnrolmentLearnt(**fields)


def test_a_provider_fact_is_recorded_once() -> None:
    assert learn_provider([], HIRED) == [HIRED]
    assert learn_provider([HIRED], HIRED) == []
    enrolled = enrolment("enrolled", date(2026, 1, 1))
    assert learn_provider([HIRED], enrolled) == [enrolled]
    assert learn_provider([HIRED, enrolled], enrolled) == []


def test_a_fact_telling_nothing_new_of_the_provider_is_not_recorded() -> None:
    same_name = ProviderLearnt(provider_id="dr-a", name="Dr. A", learnt_from="e-job")
    assert learn_provider([HIRED], same_name) == []
    renamed = ProviderLearnt(provider_id="dr-a", name="Dr. A Smith", learnt_from="e-job")
    assert learn_provider([HIRED], renamed) == [renamed]


def test_a_fact_of_another_provider_is_refused() -> None:
    with pytest.raises(Invalid, match="a fact of provider dr-b"):
        learn_provider([], HIRED.model_copy(update={"provider_id": "dr-b"}))


def test_the_npi_learnt_before_the_hire_is_kept_with_the_name() -> None:
    for order in ([HIRED, DETAILS], [DETAILS, HIRED]):
        provider = rendering_provider.fold(order)
        assert (provider.name, provider.npi, provider.taxonomy_code) == (
            "Dr. A",
            "1234567893",
            "207Q00000X",
        )
        assert provider.learnt == {"e-hired", "e-details"}


def test_an_enrolment_counts_from_its_day_until_it_ends() -> None:
    provider = rendering_provider.fold(
        [
            enrolment("applied", date(2026, 1, 1)),
            enrolment("enrolled", date(2026, 2, 1), effective_until=date(2026, 12, 31)),
        ]
    )
    assert not provider.enrolled_with("acme-health", date(2026, 1, 31))  # applied only
    assert provider.enrolled_with("acme-health", date(2026, 2, 1))
    assert provider.enrolled_with("acme-health", date(2026, 12, 31))  # its last day
    assert not provider.enrolled_with("acme-health", date(2027, 1, 1))
    assert not provider.enrolled_with("globe", date(2026, 6, 1))  # another payer


def test_an_enrolment_terminated_or_denied_stops_claims_from_its_day() -> None:
    provider = rendering_provider.fold(
        [
            enrolment("enrolled", date(2026, 1, 1)),
            enrolment("terminated", date(2026, 7, 1)),
        ]
    )
    assert provider.enrolled_with("acme-health", date(2026, 6, 30))
    assert not provider.enrolled_with("acme-health", date(2026, 7, 1))
    denied = rendering_provider.fold([enrolment("denied", date(2026, 1, 1))])
    assert not denied.enrolled_with("acme-health", date(2026, 6, 1))
    assert not RenderingProvider().enrolled_with("acme-health", date(2026, 6, 1))


def test_enrolments_with_several_payers_are_kept_apart() -> None:
    provider = rendering_provider.fold(
        [
            enrolment("enrolled", date(2026, 1, 1)),
            enrolment("enrolled", date(2026, 3, 1), payer_id="globe", learnt_from="e-g"),
            enrolment("terminated", date(2026, 5, 1), payer_id="globe", learnt_from="e-g2"),
        ]
    )
    assert provider.enrolled_with("acme-health", date(2026, 6, 1))
    assert provider.enrolled_with("globe", date(2026, 4, 1))
    assert not provider.enrolled_with("globe", date(2026, 6, 1))


# ----------------------------------------------------------------- what billing takes as fact


def hired(role: str) -> EmployeeHired:
    return EmployeeHired(
        employee_id="dr-a",
        name="Dr. A",
        title="T",
        role=role,
        site_ids=("north",),
        fte=1.0,
        hired_on=date(2026, 1, 5),
    )


def job(role: str, name: str | None = "Dr. A") -> JobChanged:
    return JobChanged(
        employee_id="dr-a",
        title="T",
        role=role,
        site_ids=("north",),
        fte=1.0,
        effective_on=date(2026, 3, 1),
        name=name,
    )


def test_only_providers_are_learnt_from_hires_and_changes_of_job() -> None:
    assert provider_fact(hired("physician"), "e1") == ProviderLearnt(
        provider_id="dr-a", name="Dr. A", learnt_from="e1"
    )
    assert provider_fact(hired("front_desk"), "e1") is None
    assert provider_fact(job("nurse_practitioner"), "e2") == ProviderLearnt(
        provider_id="dr-a", name="Dr. A", learnt_from="e2"
    )
    assert provider_fact(job("biller"), "e2") is None
    assert provider_fact(job("physician", name=None), "e2") is None  # tells nothing billing keeps


def test_npi_and_enrolments_are_learnt_as_staffing_recorded_them() -> None:
    details = ProviderDetailsRecorded(
        employee_id="dr-a", npi="1234567893", taxonomy_code="207Q00000X", specialty="Family"
    )
    assert provider_fact(details, "e3") == ProviderLearnt(
        provider_id="dr-a", npi="1234567893", taxonomy_code="207Q00000X", learnt_from="e3"
    )
    changed = PayerEnrolmentChanged(
        enrolment_id="en-1",
        employee_id="dr-a",
        payer_id="acme-health",
        status="enrolled",
        effective_from=date(2026, 2, 1),
        effective_until=date(2026, 12, 31),
    )
    assert provider_fact(changed, "e4") == EnrolmentLearnt(
        provider_id="dr-a",
        payer_id="acme-health",
        status="enrolled",
        effective_from=date(2026, 2, 1),
        effective_until=date(2026, 12, 31),
        learnt_from="e4",
    )


def test_a_coverage_is_learnt_with_every_field_billing_bills_with() -> None:
    recorded = CoverageRecorded(
        coverage_id="c2",
        patient_id="p1",
        payer_id="globe",
        payer_name="Globe",
        plan="HMO",
        relationship="child",
        member_id=sealed("member"),
        recorded_at=datetime(2026, 11, 26, tzinfo=UTC),
        priority=2,
        subscriber_name=sealed("subscriber"),
        group_number="G-1",
    )
    assert patient_fact(recorded, "e5") == coverage(
        "c2",
        priority=2,
        payer_id="globe",
        plan="HMO",
        relationship="child",
        member_id=sealed("member"),
        subscriber_name=sealed("subscriber"),
        group_number="G-1",
        learnt_from="e5",
    )
    assert patient_fact(hired("physician"), "e6") is None
