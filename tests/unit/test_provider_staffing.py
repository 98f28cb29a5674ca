"""Given what scheduling learnt from staffing, when a fact arrives (again, or out of order),
then these events; and on which days the provider may be booked: the licence rule's edge days,
employment, leave, job changes and time off."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from services.scheduling.application.staffing import fact_from
from services.scheduling.domain.events import (
    WEEKDAYS_8_TO_6,
    AvailabilitySet,
    ProviderJobChanged,
    ProviderLeaveEnded,
    ProviderLeaveStarted,
    ProviderLicenceRecorded,
    ProviderLicenceRenewed,
    ProviderLicenceRevoked,
    ProviderLicenceVerified,
    ProviderRegistered,
    ProviderRehired,
    ProviderTerminated,
    ProviderTimeOffApproved,
    ProviderTimeOffCancelled,
)
from services.scheduling.domain.providers import (
    Learn,
    ProviderFact,
    availability,
    provider,
    to_reschedule_reason,
    unbookable_reason,
)
from services.staffing.contracts import (
    CredentialRecorded,
    CredentialVerified,
    EmployeeHired,
    TimeOffCancelled,
)
from shared.domain import Invalid
from shared.events import DomainEvent
from tests.unit.test_providers import NEW_YORK, WEEKDAYS_9_TO_5, at

HIRED = ProviderRegistered(
    provider_id="dr-s",
    name="Dr. S",
    site_ids=("north",),
    role="physician",
    hired_on=date(2020, 1, 1),
    learnt_from="e-hire",
)
LICENCE = ProviderLicenceRecorded(
    provider_id="dr-s",
    licence_id="lic-ny",
    kind="state_licence",
    valid_from=date(2026, 1, 1),
    valid_until=date(2026, 12, 15),
    learnt_from="e-licence",
)
TEMPLATE = AvailabilitySet(
    provider_id="dr-s",
    site_id="north",
    template_id="t-north",
    windows=WEEKDAYS_9_TO_5,
    effective_from=date(2026, 1, 1),
    effective_until=None,
)
BOOKABLE: list[DomainEvent] = [HIRED, LICENCE, TEMPLATE]
EXPIRY = date(2026, 12, 15)


def learn(given: Sequence[DomainEvent], fact: ProviderFact) -> list[DomainEvent]:
    return list(provider.decide(provider.fold(given), Learn(provider_id="dr-s", fact=fact)))


def why(given: Sequence[DomainEvent], day: date, site_id: str = "north") -> str | None:
    return unbookable_reason(provider.fold(given), site_id, day)


def renewed(until: date, source: str = "e-renew") -> ProviderLicenceRenewed:
    return ProviderLicenceRenewed(
        provider_id="dr-s", licence_id="lic-ny", valid_until=until, learnt_from=source
    )


def revoked(on: date) -> ProviderLicenceRevoked:
    return ProviderLicenceRevoked(
        provider_id="dr-s", licence_id="lic-ny", effective_on=on, learnt_from="e-revoke"
    )


def verified(on: date, passed: bool, source: str) -> ProviderLicenceVerified:
    return ProviderLicenceVerified(
        provider_id="dr-s", licence_id="lic-ny", verified_on=on, passed=passed, learnt_from=source
    )


def terminated(last_day: date) -> ProviderTerminated:
    return ProviderTerminated(provider_id="dr-s", last_day=last_day, learnt_from="e-term")


# -------------------------------------------------------------------- learning, once, any order


def test_a_fact_is_learnt_once_whatever_its_content() -> None:
    assert learn([], HIRED) == [HIRED]
    assert learn([HIRED], HIRED) == []  # redelivered
    assert learn(BOOKABLE, LICENCE) == []
    # The same renewal twice is one fact; another renewal to the same day is another.
    first = renewed(date(2027, 6, 30))
    assert learn([*BOOKABLE, first], first) == []
    again = renewed(date(2027, 6, 30), source="e-renew-2")
    assert learn([*BOOKABLE, first], again) == [again]


def test_a_licence_and_time_off_learnt_before_the_hire_count_once_hired() -> None:
    off = ProviderTimeOffApproved(
        provider_id="dr-s", time_off_id="to-1", start=at(9), end=at(12), learnt_from="e-off"
    )
    assert learn([], LICENCE) == [LICENCE]
    assert learn([LICENCE], off) == [off]
    before = [LICENCE, off]
    assert why(before, date(2026, 12, 1)) == "provider ? not found"
    state = provider.fold([*before, HIRED, TEMPLATE])
    assert unbookable_reason(state, "north", date(2026, 12, 1)) is None
    assert to_reschedule_reason(state, "north", date(2026, 12, 1), at(10), at(11)) == (
        "provider dr-s is on approved time off then"
    )
    assert to_reschedule_reason(state, "north", date(2026, 12, 1), at(13), at(14)) is None


def test_a_hire_of_a_registered_provider_is_a_rehire() -> None:
    again = HIRED.model_copy(
        update={"hired_on": date(2026, 3, 1), "site_ids": ("south",), "learnt_from": "e-rehire"}
    )
    assert learn([HIRED, terminated(date(2025, 12, 31))], again) == [
        ProviderRehired(
            provider_id="dr-s",
            name="Dr. S",
            site_ids=("south",),
            role="physician",
            hired_on=date(2026, 3, 1),
            learnt_from="e-rehire",
        )
    ]


def test_facts_of_an_employee_never_hired_as_a_provider_are_not_recorded() -> None:
    job = ProviderJobChanged(
        provider_id="dr-s",
        role="nurse",
        site_ids=("north",),
        effective_on=date(2026, 1, 1),
        sees_patients=False,
        learnt_from="e-job",
    )
    assert learn([], job) == []
    assert learn([], terminated(date(2026, 1, 1))) == []
    # A credential's later events name no kind: one of a licence never recorded is another kind.
    assert learn([HIRED], renewed(date(2027, 1, 1))) == []
    assert learn([HIRED], revoked(date(2026, 6, 1))) == []


def test_an_employee_moved_into_a_providers_role_is_registered_from_the_change() -> None:
    job = ProviderJobChanged(
        provider_id="dr-s",
        role="nurse_practitioner",
        site_ids=("north",),
        effective_on=date(2026, 6, 1),
        sees_patients=True,
        learnt_from="e-job",
        name="Dr. S",
    )
    registered = ProviderRegistered(
        provider_id="dr-s",
        name="Dr. S",
        site_ids=("north",),
        role="nurse_practitioner",
        hired_on=date(2026, 6, 1),
        learnt_from="e-job",
    )
    assert learn([], job) == [registered]
    assert learn([registered], job) == []  # redelivered
    # Without a name (a change recorded before staffing sent it) there is no one to register.
    assert learn([], job.model_copy(update={"name": None})) == []
    # A licence learnt before makes them bookable from the change's day, not before.
    state = [LICENCE, registered, TEMPLATE]
    assert why(state, date(2026, 6, 1)) is None
    assert why(state, date(2026, 5, 29)) is not None


def test_a_fact_must_name_its_staffing_event_and_provider() -> None:
    with pytest.raises(Invalid, match="names the staffing event"):
        learn([], HIRED.model_copy(update={"learnt_from": None}))
    with pytest.raises(Invalid, match="is not about"):
        learn([], HIRED.model_copy(update={"provider_id": "dr-t"}))


# ------------------------------------------------------------------------- the licence rule


def test_a_licence_covers_its_issue_day_to_its_expiry_day() -> None:
    assert why(BOOKABLE, date(2026, 1, 1)) is None
    assert why(BOOKABLE, date(2025, 12, 31)) == "provider dr-s has no licence valid on 2025-12-31"
    assert why(BOOKABLE, EXPIRY) is None
    assert why(BOOKABLE, EXPIRY + timedelta(days=1)) == (
        "provider dr-s has no licence valid on 2026-12-16"
    )


def test_a_renewal_moves_the_last_day_and_the_latest_renewal_counts() -> None:
    given = [*BOOKABLE, renewed(date(2027, 12, 15))]
    assert why(given, date(2027, 12, 15)) is None
    assert why(given, date(2027, 12, 16)) is not None
    shorter = [*given, renewed(date(2027, 1, 31), source="e-renew-2")]
    assert why(shorter, date(2027, 2, 1)) is not None


def test_a_licence_without_expiry_covers_every_day_from_issue() -> None:
    forever = LICENCE.model_copy(update={"valid_until": date.max})
    assert why([HIRED, forever, TEMPLATE], date(2199, 12, 31)) is None


def test_a_revoked_licence_is_invalid_from_the_revocation_day_on() -> None:
    given = [*BOOKABLE, revoked(date(2026, 12, 2))]
    assert why(given, date(2026, 12, 1)) is None
    assert why(given, date(2026, 12, 2)) == "provider dr-s has no licence valid on 2026-12-02"
    assert why(given, date(2026, 12, 10)) is not None


def test_a_failed_verification_invalidates_from_its_day_until_one_passes() -> None:
    given = [*BOOKABLE, verified(date(2026, 12, 2), passed=False, source="e-v1")]
    assert why(given, date(2026, 12, 1)) is None
    assert why(given, date(2026, 12, 2)) is not None
    passed = [*given, verified(date(2026, 12, 8), passed=True, source="e-v2")]
    assert why(passed, date(2026, 12, 7)) is not None
    assert why(passed, date(2026, 12, 8)) is None
    # A verification that passed before the failure does not outweigh it.
    early = [*BOOKABLE, verified(date(2026, 11, 1), True, "e-v0"), *given[-1:]]
    assert why(early, date(2026, 12, 3)) is not None


def test_another_valid_licence_keeps_the_provider_bookable() -> None:
    other = LICENCE.model_copy(
        update={"licence_id": "lic-nj", "valid_until": date(2027, 6, 30), "learnt_from": "e-nj"}
    )
    given = [*BOOKABLE, revoked(date(2026, 12, 2)), other]
    assert why(given, date(2026, 12, 10)) is None


# ------------------------------------------------------------ employment, leave, job, time off


def test_a_terminated_provider_is_bookable_on_the_last_day_not_after_until_rehired() -> None:
    given = [*BOOKABLE, terminated(date(2026, 12, 4))]
    assert why(given, date(2026, 12, 4)) is None
    assert why(given, date(2026, 12, 7)) == "provider dr-s is not employed on 2026-12-07"
    back = ProviderRehired(
        provider_id="dr-s",
        name="Dr. S",
        site_ids=("north",),
        role="physician",
        hired_on=date(2026, 12, 10),
        learnt_from="e-rehire",
    )
    assert why([*given, back], date(2026, 12, 9)) is not None
    assert why([*given, back], date(2026, 12, 10)) is None


def test_a_provider_on_leave_is_not_bookable_until_the_day_they_return() -> None:
    leave = ProviderLeaveStarted(
        provider_id="dr-s", leave_id="l-1", starts_on=date(2026, 12, 2), learnt_from="e-l1"
    )
    given = [*BOOKABLE, leave]
    assert why(given, date(2026, 12, 1)) is None
    assert why(given, date(2026, 12, 2)) == "provider dr-s is on leave on 2026-12-02"
    ended = ProviderLeaveEnded(
        provider_id="dr-s", leave_id="l-1", returned_on=date(2026, 12, 8), learnt_from="e-l2"
    )
    assert why([*given, ended], date(2026, 12, 7)) is not None
    assert why([*given, ended], date(2026, 12, 8)) is None


def test_a_job_change_moves_the_provider_from_its_day() -> None:
    moved = ProviderJobChanged(
        provider_id="dr-s",
        role="physician",
        site_ids=("south",),
        effective_on=date(2026, 12, 7),
        sees_patients=True,
        learnt_from="e-job",
    )
    given = [*BOOKABLE, moved]
    assert why(given, date(2026, 12, 4)) is None
    assert why(given, date(2026, 12, 7)) == "provider dr-s does not work at site north"
    manager = moved.model_copy(
        update={"role": "manager", "site_ids": ("north",), "sees_patients": False}
    )
    assert why([*BOOKABLE, manager], date(2026, 12, 7)) == (
        "provider dr-s does not see patients on 2026-12-07"
    )
    assert provider.fold([*BOOKABLE, moved]).all_site_ids == ("north", "south")


def test_cancelled_time_off_frees_the_time_also_when_learnt_before_the_approval() -> None:
    off = ProviderTimeOffApproved(
        provider_id="dr-s", time_off_id="to-1", start=at(9), end=at(12), learnt_from="e-off"
    )
    cancel = ProviderTimeOffCancelled(provider_id="dr-s", time_off_id="to-1", learnt_from="e-c")
    for given in ([*BOOKABLE, off, cancel], [*BOOKABLE, cancel, off]):
        state = provider.fold(given)
        assert state.time_off == ()
        assert to_reschedule_reason(state, "north", date(2026, 12, 1), at(10), at(11)) is None


# ------------------------------------------------------------- staffing's events, translated


def test_only_provider_hires_and_licences_become_facts() -> None:
    hire = EmployeeHired(
        employee_id="e-1",
        name="N",
        title="Nurse",
        role="nurse",
        site_ids=("north",),
        fte=1.0,
        hired_on=date(2026, 1, 1),
    )
    assert fact_from(hire, "x") is None
    assert fact_from(hire.model_copy(update={"role": "nurse_practitioner"}), "x") is not None
    dea = CredentialRecorded(
        credential_id="c-1",
        employee_id="e-1",
        kind="dea_registration",
        issuer="DEA",
        number="1",
        issued_on=date(2026, 1, 1),
    )
    assert fact_from(dea, "x") is None
    lifelong = fact_from(dea.model_copy(update={"kind": "state_licence"}), "x")
    assert isinstance(lifelong, ProviderLicenceRecorded)
    assert lifelong.valid_until == date.max


def test_a_failed_verification_is_a_failed_check_on_its_day() -> None:
    check = CredentialVerified(
        credential_id="c-1",
        employee_id="e-1",
        source="state board website",
        verified_by="hr-1",
        verified_at=datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
        result="failed",
    )
    assert fact_from(check, "ev-9") == ProviderLicenceVerified(
        provider_id="e-1",
        licence_id="c-1",
        verified_on=date(2026, 12, 2),
        passed=False,
        learnt_from="ev-9",
    )
    cancel = TimeOffCancelled(request_id="r-1", employee_id="e-1", start=at(9), end=at(12))
    assert fact_from(cancel, "ev-10") == ProviderTimeOffCancelled(
        provider_id="e-1", time_off_id="r-1", learnt_from="ev-10"
    )


def test_availability_is_empty_on_a_day_the_licence_does_not_cover() -> None:
    state = provider.fold(BOOKABLE)
    assert availability(state, "north", EXPIRY, NEW_YORK, WEEKDAYS_8_TO_6) != []
    after = EXPIRY + timedelta(days=3)  # a Friday
    assert availability(state, "north", after, NEW_YORK, WEEKDAYS_8_TO_6) == []
