"""Given these events, when this command, then these events: a credential's life (recorded,
renewed, verified, revoked), its expiry reminders, and a provider's enrolment with a payer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.staffing.domain.credentials import (
    RecordCredential,
    RemindExpiry,
    RenewCredential,
    RevokeCredential,
    VerifyCredential,
    credential,
    next_reminder_on,
)
from services.staffing.domain.employment import employment as employee
from services.staffing.domain.enrolment import ChangeEnrolment, enrolment
from services.staffing.domain.events import (
    CredentialExpiryReminded,
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    PayerEnrolmentChanged,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

EXPIRES = date(2027, 6, 30)  # the licence's last valid day
IDS = {"credential_id": "lic-1", "employee_id": "dr-a"}


def licence(**change: Any) -> RecordCredential:
    fields: dict[str, Any] = {
        **IDS,
        "kind": "state_licence",
        "issuer": "NY State Education Department",
        "number": "123456",
        "state": "NY",
        "issued_on": date(2025, 7, 1),
        "expires_on": EXPIRES,
    }
    return RecordCredential(**{**fields, **change})


RECORDED = CredentialRecorded(**licence().model_dump())


def given(events: Sequence[DomainEvent], command: Any) -> list[DomainEvent]:
    return list(credential.decide(credential.fold(events), command))


def reminded(threshold: int, expires_on: date = EXPIRES, on: date | None = None) -> DomainEvent:
    return CredentialExpiryReminded(
        **IDS,
        kind="state_licence",
        expires_on=expires_on,
        threshold_days=threshold,
        reminded_on=on or expires_on - timedelta(days=threshold),
    )


def verified(result: str, day: date = date(2026, 12, 1)) -> CredentialVerified:
    return CredentialVerified.model_validate(
        {
            **IDS,
            "source": "state board website",
            "verified_by": "hr-1",
            "verified_at": datetime(day.year, day.month, day.day, 15, tzinfo=UTC),
            "result": result,
        }
    )


# ----------------------------------------------------------------------------- recording


def test_a_credential_is_recorded() -> None:
    assert given([], licence()) == [RECORDED]


def test_recording_the_same_credential_again_records_nothing() -> None:
    assert given([RECORDED], licence()) == []


def test_another_credential_under_a_recorded_id_is_refused() -> None:
    with pytest.raises(Rejected):
        given([RECORDED], licence(number="999"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"expires_on": date(2025, 6, 30)}, "before issued_on"),
        ({"state": None}, "names the state"),
        ({"state": "New York"}, "two-letter"),
        ({"state": "ny"}, "two-letter"),
        ({"kind": "dea_registration", "state": None}, "names the state"),
        ({"issuer": "  "}, "issuer"),
    ],
)
def test_bad_credentials_are_invalid(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        given([], licence(**change))


def test_a_board_certification_needs_no_state_nor_expiry() -> None:
    cert = licence(kind="board_certification", issuer="ABIM", state=None, expires_on=None)
    assert given([], cert) == [CredentialRecorded(**cert.model_dump())]


def test_commands_on_an_unknown_credential_are_not_found() -> None:
    with pytest.raises(NotFound):
        given([], RenewCredential(expires_on=date(2029, 6, 30)))


# ------------------------------------------------------------------------------ lifecycle


def test_a_renewal_moves_the_last_day_later() -> None:
    renewal = RenewCredential(expires_on=date(2029, 6, 30))
    assert given([RECORDED], renewal) == [CredentialRenewed(**IDS, expires_on=date(2029, 6, 30))]


@pytest.mark.parametrize("day", [EXPIRES, date(2027, 1, 1)])
def test_a_renewal_to_the_same_or_an_earlier_day_is_invalid(day: date) -> None:
    with pytest.raises(Invalid, match="after the current"):
        given([RECORDED], RenewCredential(expires_on=day))


def test_a_credential_that_does_not_expire_is_not_renewed() -> None:
    cert = CredentialRecorded(**licence(expires_on=None).model_dump())
    with pytest.raises(Rejected, match="does not expire"):
        given([cert], RenewCredential(expires_on=date(2029, 6, 30)))


REVOKED = CredentialRevoked(**IDS, effective_on=date(2026, 12, 10), reason="board action")


def test_a_revocation_is_recorded_and_makes_it_invalid_from_its_day() -> None:
    revoke = RevokeCredential(effective_on=date(2026, 12, 10), reason="board action")
    assert given([RECORDED], revoke) == [REVOKED]
    assert credential.fold([RECORDED, REVOKED]).invalid_from == date(2026, 12, 10)


@pytest.mark.parametrize(
    "command",
    [
        RevokeCredential(effective_on=date(2026, 12, 11), reason="again"),
        RenewCredential(expires_on=date(2029, 6, 30)),
        VerifyCredential(**verified("verified").model_dump(exclude=set(IDS))),
    ],
)
def test_a_revoked_credential_is_not_revoked_renewed_or_verified(command: Any) -> None:
    with pytest.raises(Rejected, match="revoked"):
        given([RECORDED, REVOKED], command)


def test_a_revocation_before_the_issue_is_invalid() -> None:
    with pytest.raises(Invalid, match="before issued_on"):
        given([RECORDED], RevokeCredential(effective_on=date(2025, 1, 1), reason="x"))


def test_a_failed_verification_makes_it_invalid_from_that_day_until_one_succeeds() -> None:
    failed = verified("failed", date(2026, 12, 3))
    command = VerifyCredential(**failed.model_dump(exclude=set(IDS)))
    assert given([RECORDED], command) == [failed]
    assert credential.fold([RECORDED, failed]).invalid_from == date(2026, 12, 3)
    later = verified("verified", date(2026, 12, 20))
    assert credential.fold([RECORDED, failed, later]).invalid_from is None


# ------------------------------------------------------------------------------ reminders


@pytest.mark.parametrize(
    ("today", "threshold"),
    [
        (EXPIRES - timedelta(days=90), 90),
        (EXPIRES - timedelta(days=61), 90),
        (EXPIRES - timedelta(days=60), 60),
        (EXPIRES - timedelta(days=30), 30),
        (EXPIRES, 30),  # the last valid day: not expired yet
        (EXPIRES + timedelta(days=1), 0),
        (EXPIRES + timedelta(days=400), 0),
    ],
)
def test_the_tightest_threshold_due_is_reminded(today: date, threshold: int) -> None:
    assert given([RECORDED], RemindExpiry(today=today)) == [reminded(threshold, on=today)]


def test_nothing_is_due_before_ninety_days() -> None:
    assert given([RECORDED], RemindExpiry(today=EXPIRES - timedelta(days=91))) == []


def test_a_threshold_is_reminded_once() -> None:
    today = EXPIRES - timedelta(days=80)
    assert given([RECORDED, reminded(90)], RemindExpiry(today=today)) == []


def test_a_looser_threshold_is_not_reminded_after_a_tighter_one() -> None:
    # Recorded 20 days before it expires: the 30-day reminder fires, and never the 90 or 60.
    today = EXPIRES - timedelta(days=20)
    events = [RECORDED, reminded(30, on=today)]
    assert given(events, RemindExpiry(today=today + timedelta(days=1))) == []
    assert given(events, RemindExpiry(today=EXPIRES + timedelta(days=1))) == [
        reminded(0, on=EXPIRES + timedelta(days=1))
    ]


def test_a_renewal_starts_the_reminders_again_for_the_new_day() -> None:
    new_day = date(2029, 6, 30)
    events = [RECORDED, reminded(90), reminded(60), CredentialRenewed(**IDS, expires_on=new_day)]
    assert given(events, RemindExpiry(today=EXPIRES - timedelta(days=30))) == []
    today = new_day - timedelta(days=90)
    assert given(events, RemindExpiry(today=today)) == [reminded(90, new_day, today)]


def test_a_revoked_credential_gets_no_reminders() -> None:
    assert given([RECORDED, REVOKED], RemindExpiry(today=EXPIRES)) == []


def test_a_credential_that_does_not_expire_gets_no_reminders() -> None:
    cert = CredentialRecorded(**licence(expires_on=None).model_dump())
    assert given([cert], RemindExpiry(today=date(2040, 1, 1))) == []


def test_the_next_reminder_day_follows_what_fired() -> None:
    assert next_reminder_on(EXPIRES, frozenset()) == EXPIRES - timedelta(days=90)
    assert next_reminder_on(EXPIRES, frozenset({(EXPIRES, 90)})) == EXPIRES - timedelta(days=60)
    assert next_reminder_on(EXPIRES, frozenset({(EXPIRES, 30)})) == EXPIRES + timedelta(days=1)
    assert next_reminder_on(EXPIRES, frozenset({(EXPIRES, 0)})) is None
    # Reminders for an earlier expiry date do not count for a renewed one.
    later = date(2029, 6, 30)
    assert next_reminder_on(later, frozenset({(EXPIRES, 0)})) == later - timedelta(days=90)
    assert next_reminder_on(None, frozenset()) is None


# ------------------------------------------------------------------------------ employees


def test_the_employee_fold_follows_hire_job_change_and_termination() -> None:
    hired = EmployeeHired(
        employee_id="dr-a",
        name="Dr A",
        title="Physician",
        role="physician",
        site_ids=("north",),
        fte=1.0,
        hired_on=date(2024, 1, 1),
    )
    state = employee.fold([hired])
    assert state.exists
    assert state.is_provider
    assert state.name
    assert state.employed
    moved = JobChanged(
        employee_id="dr-a",
        title="Nurse",
        role="nurse",
        site_ids=("south",),
        fte=1.0,
        effective_on=date(2025, 1, 1),
    )
    state = employee.fold([hired, moved])
    assert state.site_ids == ("south",)
    assert not state.is_provider
    gone = EmployeeTerminated(employee_id="dr-a", last_day=date(2026, 1, 1), reason="left")
    assert not employee.fold([hired, moved, gone]).employed
    assert not employee.fold([]).exists


# ------------------------------------------------------------------------------ enrolment


def change(status: str, **more: Any) -> ChangeEnrolment:
    fields: dict[str, Any] = {
        "enrolment_id": "enr-new",
        "employee_id": "dr-a",
        "payer_id": "aetna",
        "status": status,
        "effective_from": date(2026, 12, 1),
    }
    return ChangeEnrolment(**{**fields, **more})


def enrolled(status: str, enrolment_id: str = "enr-1") -> PayerEnrolmentChanged:
    return PayerEnrolmentChanged(**{**change(status).model_dump(), "enrolment_id": enrolment_id})


def test_a_first_application_is_recorded_under_the_new_id() -> None:
    assert list(enrolment.decide(enrolment.fold([]), change("applied"))) == [
        enrolled("applied", "enr-new")
    ]


@pytest.mark.parametrize(
    ("history", "status"),
    [
        (["applied"], "enrolled"),
        (["applied"], "denied"),
        (["applied", "enrolled"], "terminated"),
        (["applied", "denied"], "applied"),
        (["applied", "enrolled", "terminated"], "applied"),
    ],
)
def test_legal_steps_keep_the_first_id(history: list[str], status: str) -> None:
    state = enrolment.fold([enrolled(s) for s in history])
    assert list(enrolment.decide(state, change(status))) == [enrolled(status)]


@pytest.mark.parametrize(
    ("history", "status"),
    [
        ([], "enrolled"),
        ([], "terminated"),
        (["applied"], "applied"),
        (["applied"], "terminated"),
        (["applied", "enrolled"], "applied"),
        (["applied", "enrolled"], "denied"),
        (["applied", "denied"], "enrolled"),
        (["applied", "enrolled", "terminated"], "enrolled"),
    ],
)
def test_illegal_steps_are_refused(history: list[str], status: str) -> None:
    state = enrolment.fold([enrolled(s) for s in history])
    with pytest.raises(Rejected):
        enrolment.decide(state, change(status))


def test_an_enrolment_ending_before_it_starts_is_invalid() -> None:
    with pytest.raises(Invalid, match="before effective_from"):
        enrolment.decide(enrolment.fold([]), change("applied", effective_until=date(2026, 1, 1)))
