"""Given these events, when this command, then these events: registration with contact
details, coverage and intake on a patient's stream."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.scheduling.domain import patients
from services.scheduling.domain.events import (
    CoverageRecorded,
    IntakeRecorded,
    PatientForgotten,
    PatientRegistered,
    registry,
)
from services.scheduling.domain.intake import (
    Answer,
    RecordCoverage,
    RecordIntake,
    patient_file,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent, Metadata, seal
from shared.phi import phi_fields

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
REGISTERED = PatientRegistered(
    patient_id="p1", name="A", birth_date="1980-01-01", phone="", registered_at=NOW
)
FORGOTTEN = PatientForgotten(patient_id="p1", reason="asked", forgotten_at=NOW)


def coverage(coverage_id: str = "c1", **change: Any) -> RecordCoverage:
    fields: dict[str, Any] = {
        "coverage_id": coverage_id,
        "patient_id": "p1",
        "payer_id": "acme-health",
        "payer_name": "Acme Health",
        "plan": "PPO Gold",
        "relationship": "self",
        "member_id": "XZ123",
        "recorded_at": NOW,
        **change,
    }
    return RecordCoverage(**fields)


def intake(intake_id: str = "i1", **change: Any) -> RecordIntake:
    fields: dict[str, Any] = {
        "intake_id": intake_id,
        "patient_id": "p1",
        "appointment_id": None,
        "reason_for_visit": "cough for a week",
        "answers": (Answer(question="Smoker?", answer="no"), Answer(question="Fever?", answer="")),
        "recorded_at": NOW,
        **change,
    }
    return RecordIntake(**fields)


def when(given: Sequence[DomainEvent], command: RecordCoverage | RecordIntake) -> list[DomainEvent]:
    return list(patient_file.decide(patient_file.fold(given), command))


def test_registration_keeps_email_and_postal_address() -> None:
    command = patients.RegisterPatient(
        patient_id="p1",
        name="A",
        birth_date=date(1980, 1, 1),
        phone="",
        email="a@example.org",
        address="1 Main St, Springfield",
        registered_at=NOW,
    )
    [event] = patients.patient.decide(patients.patient.initial, command)
    assert isinstance(event, PatientRegistered)
    assert (event.email, event.address) == ("a@example.org", "1 Main St, Springfield")
    assert {"name", "birth_date", "phone", "email", "address"} <= set(phi_fields(type(event)))


def test_a_registration_recorded_before_email_and_address_still_decodes() -> None:
    old = seal(
        REGISTERED,
        stream="acme:patient:p1",
        stream_version=1,
        meta=Metadata(tenant="acme", correlation_id="c"),
        event_id="e1",
        time=NOW,
    )
    data = {k: v for k, v in old.data.items() if k not in ("email", "address")}
    decoded = registry.decode(old.model_copy(update={"data": data}))
    assert isinstance(decoded, PatientRegistered)
    assert (decoded.email, decoded.address) == ("", "")


def recorded(command: RecordCoverage, priority: int = 1) -> CoverageRecorded:
    return CoverageRecorded(**command.model_dump(exclude={"priority"}), priority=priority)


def test_a_coverage_is_recorded_with_its_member_id_as_phi() -> None:
    assert when([REGISTERED], coverage()) == [recorded(coverage())]
    assert phi_fields(CoverageRecorded) == ("member_id", "subscriber_name")


def test_a_second_coverage_with_another_payer_is_recorded_as_the_secondary() -> None:
    given = [REGISTERED, recorded(coverage())]
    second = coverage(
        "c2", payer_id="globe", payer_name="Globe", relationship="spouse", subscriber_name="Bo A"
    )
    assert when(given, second) == [recorded(second, priority=2)]


def test_a_coverage_takes_the_first_free_priority_and_none_once_three_are_held() -> None:
    given = [
        REGISTERED,
        recorded(coverage("c1"), 1),
        recorded(coverage("c3", payer_id="third"), 3),
    ]
    [event] = when(given, coverage("c2", payer_id="second"))
    assert isinstance(event, CoverageRecorded)
    assert event.priority == 2
    with pytest.raises(Rejected, match="name the priority this one replaces"):
        when([*given, event], coverage("c4", payer_id="fourth"))
    [named] = when([*given, event], coverage("c4", payer_id="fourth", priority=3))
    assert isinstance(named, CoverageRecorded)
    assert named.priority == 3


def test_a_coverage_at_a_priority_held_replaces_the_one_there() -> None:
    given = [REGISTERED, recorded(coverage()), recorded(coverage("c2", payer_id="globe"), 2)]
    new_primary = coverage("c3", payer_id="new-payer", priority=1)
    [event] = when(given, new_primary)
    assert event == recorded(new_primary, priority=1)
    state = patient_file.fold([*given, event])
    assert state.coverages == {
        "c2": ("globe", "PPO Gold", 2),
        "c3": ("new-payer", "PPO Gold", 1),
    }
    # The replaced coverage's payer and plan are free again.
    [again] = when([*given, event], coverage("c4", priority=3))
    assert isinstance(again, CoverageRecorded)


def test_a_new_card_of_the_same_payer_and_plan_replaces_the_old_at_its_priority() -> None:
    given = [REGISTERED, recorded(coverage())]
    renewed = coverage("c2", member_id="NEW-CARD", priority=1)
    assert when(given, renewed) == [recorded(renewed, priority=1)]


def test_the_same_payer_and_plan_twice_is_refused() -> None:
    given = [REGISTERED, recorded(coverage())]
    with pytest.raises(Rejected, match="already has coverage with payer acme-health"):
        when(given, coverage("c2", member_id="OTHER"))
    with pytest.raises(Rejected, match="already has coverage with payer acme-health"):
        when(given, coverage("c2", member_id="OTHER", priority=2))


def test_a_coverage_recorded_again_under_its_id_is_updated_at_its_priority() -> None:
    given = [REGISTERED, recorded(coverage()), recorded(coverage("c2", payer_id="globe"), 2)]
    updated = coverage("c2", payer_id="globe", plan="HMO", group_number="G-77")
    [event] = when(given, updated)
    assert event == recorded(updated, priority=2)
    state = patient_file.fold([*given, event])
    assert state.coverages == {"c1": ("acme-health", "PPO Gold", 1), "c2": ("globe", "HMO", 2)}
    # Moved to primary: it replaces the coverage there.
    [moved] = when([*given, event], coverage("c2", payer_id="globe", priority=1))
    state = patient_file.fold([*given, event, moved])
    assert state.coverages == {"c2": ("globe", "PPO Gold", 1)}


@pytest.mark.parametrize("priority", [0, 4])
def test_a_priority_is_one_two_or_three(priority: int) -> None:
    with pytest.raises(Invalid, match="priority is 1"):
        when([REGISTERED], coverage(priority=priority))


def test_a_subscriber_other_than_the_patient_is_named() -> None:
    with pytest.raises(Invalid, match="through a child needs the subscriber's name"):
        when([REGISTERED], coverage(relationship="child", subscriber_name=" "))
    with pytest.raises(Invalid, match="names no other subscriber"):
        when([REGISTERED], coverage(subscriber_name="Bo A"))
    child = coverage(relationship="child", subscriber_name="Bo A", group_number="G-1")
    [event] = when([REGISTERED], child)
    assert isinstance(event, CoverageRecorded)
    assert (event.subscriber_name, event.group_number) == ("Bo A", "G-1")


def test_a_coverage_recorded_before_priorities_still_decodes_as_primary() -> None:
    old = seal(
        recorded(coverage()),
        stream="acme:patient:p1",
        stream_version=2,
        meta=Metadata(tenant="acme", correlation_id="c"),
        event_id="e2",
        time=NOW,
    )
    data = {
        k: v
        for k, v in old.data.items()
        if k not in ("priority", "subscriber_name", "group_number")
    }
    decoded = registry.decode(old.model_copy(update={"data": data}))
    assert isinstance(decoded, CoverageRecorded)
    assert (decoded.priority, decoded.subscriber_name, decoded.group_number) == (1, "", "")


def test_a_sex_is_one_of_fhirs_gender_codes() -> None:
    def register(sex: str) -> patients.RegisterPatient:
        return patients.RegisterPatient(
            patient_id="p1",
            name="A",
            birth_date=date(1980, 1, 1),
            phone="",
            sex=sex,
            registered_at=NOW,
        )

    for sex in ("female", "male", "other", "unknown", ""):
        [event] = patients.patient.decide(patients.patient.initial, register(sex))
        assert isinstance(event, PatientRegistered)
        assert event.sex == sex
    with pytest.raises(Invalid, match="sex is one of female, male, other, unknown"):
        patients.patient.decide(patients.patient.initial, register("F"))
    assert "sex" in phi_fields(PatientRegistered)


@pytest.mark.parametrize("field", ["payer_id", "payer_name", "plan", "member_id"])
def test_a_coverage_needs_every_detail(field: str) -> None:
    with pytest.raises(Invalid, match="a coverage needs"):
        when([REGISTERED], coverage(**{field: "  "}))


def test_an_intake_keeps_the_answers_as_one_json_text() -> None:
    [event] = when([REGISTERED], intake(appointment_id="a1"))
    assert isinstance(event, IntakeRecorded)
    assert (event.appointment_id, event.reason_for_visit) == ("a1", "cough for a week")
    assert isinstance(event.answers, str)
    assert json.loads(event.answers) == [
        {"question": "Smoker?", "answer": "no"},
        {"question": "Fever?", "answer": ""},
    ]
    assert phi_fields(IntakeRecorded) == ("reason_for_visit", "answers")


def test_an_intake_without_answers_is_recorded() -> None:
    [event] = when([REGISTERED], intake(answers=()))
    assert isinstance(event, IntakeRecorded)
    assert event.answers == "[]"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason_for_visit": " "}, "needs a reason"),
        ({"answers": (Answer(question=" ", answer="x"),)}, "needs its question"),
        (
            {"answers": (Answer(question="Q", answer="a"), Answer(question="Q ", answer="b"))},
            "answered once",
        ),
    ],
)
def test_a_bad_intake_is_invalid(change: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid, match=message):
        when([REGISTERED], intake(**change))


def test_an_intake_id_is_used_once() -> None:
    [recorded] = when([REGISTERED], intake())
    with pytest.raises(Rejected, match="intake i1 already exists"):
        when([REGISTERED, recorded], intake())


@pytest.mark.parametrize("command", [coverage(), intake()], ids=["coverage", "intake"])
def test_an_unregistered_patient_is_not_found(command: RecordCoverage | RecordIntake) -> None:
    with pytest.raises(NotFound, match="patient p1 not found"):
        when([], command)


@pytest.mark.parametrize("command", [coverage(), intake()], ids=["coverage", "intake"])
def test_a_forgotten_patient_takes_no_new_phi(command: RecordCoverage | RecordIntake) -> None:
    with pytest.raises(Rejected, match="patient p1 was forgotten"):
        when([REGISTERED, FORGOTTEN], command)
