"""An employee's lifecycle: given events, when a command, then events (or a refusal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.staffing.domain.employees import (
    ChangeJob,
    EmployeeCommand,
    EndLeave,
    ForgetPersonalData,
    Hire,
    Job,
    PersonalDetails,
    ProviderDetails,
    RecordAccess,
    RecordPersonalDetails,
    RecordProviderDetails,
    Rehire,
    StartLeave,
    Terminate,
    access,
    employee,
)
from services.staffing.domain.events import (
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    LeaveEnded,
    LeaveStarted,
    PersonalDataForgotten,
    PersonalDetailsRecorded,
    PersonalRecordAccessed,
    ProviderDetailsRecorded,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent
from shared.identifiers import is_valid_npi, luhn_check_digit

JOB = Job(title="Physician", role="physician", site_ids=("north",), fte=1.0, manager_id="boss")
DESK = Job(title="Front desk", role="front_desk", site_ids=("north", "south"), fte=0.5)
PROVIDER = ProviderDetails(npi="1234567893", taxonomy_code="207Q00000X", specialty="Family")
HIRE = Hire(employee_id="e1", name="Dr. A", job=JOB, hired_on=date(2026, 1, 5))
HIRED = EmployeeHired(
    employee_id="e1",
    name="Dr. A",
    title="Physician",
    role="physician",
    site_ids=("north",),
    fte=1.0,
    manager_id="boss",
    hired_on=date(2026, 1, 5),
)
TERMINATED = EmployeeTerminated(employee_id="e1", last_day=date(2026, 6, 30), reason="moved")
ON_LEAVE = LeaveStarted(
    employee_id="e1", leave_id="l1", reason="parental", starts_on=date(2026, 3, 1)
)
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def when(given: Sequence[DomainEvent], command: EmployeeCommand) -> Sequence[DomainEvent]:
    return employee.decide(employee.fold(given), command)


# ----------------------------------------------------------------------------- NPI


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_valid_npis_pass_the_check(npi: str) -> None:
    assert is_valid_npi(npi)


@pytest.mark.parametrize(
    "npi",
    [
        "1234567890",  # wrong check digit
        "1234567894",
        "123456789",  # nine digits
        "12345678933",  # eleven
        "123456789a",
        "１２３４５６７８９３",  # full-width digits are digits to str.isdigit, not to an NPI
        "",
    ],
)
def test_invalid_npis_fail_the_check(npi: str) -> None:
    assert not is_valid_npi(npi)


def test_the_check_digit_is_luhn_over_the_80840_prefix() -> None:
    assert luhn_check_digit("80840123456789") == 3  # CMS's worked example: 123456789 → 3


# ----------------------------------------------------------------------------- hire


def test_a_hire_records_the_job_personal_and_provider_details() -> None:
    personal = PersonalDetails(phone="+1 555 0100", birth_date=date(1980, 2, 3))
    hire = HIRE.model_copy(update={"personal": personal, "provider": PROVIDER})

    assert when([], hire) == [
        HIRED,
        PersonalDetailsRecorded(employee_id="e1", phone="+1 555 0100", birth_date="1980-02-03"),
        ProviderDetailsRecorded(
            employee_id="e1", npi="1234567893", taxonomy_code="207Q00000X", specialty="Family"
        ),
    ]


def test_the_same_hire_again_records_nothing_and_another_is_refused() -> None:
    assert when([HIRED], HIRE) == []
    with pytest.raises(Rejected, match="already hired"):
        when([HIRED], HIRE.model_copy(update={"name": "Dr. B"}))
    with pytest.raises(Rejected, match="rehire"):
        when([HIRED, TERMINATED], HIRE)


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (JOB.model_copy(update={"site_ids": ()}), "one site"),
        (JOB.model_copy(update={"site_ids": ("north", "north")}), "twice"),
        (JOB.model_copy(update={"fte": 0.0}), "fte"),
        (JOB.model_copy(update={"fte": 1.5}), "fte"),
        (JOB.model_copy(update={"manager_id": "e1"}), "own manager"),
        (JOB.model_copy(update={"title": " "}), "title"),
    ],
)
def test_a_job_that_makes_no_sense_is_invalid(job: Job, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        when([], HIRE.model_copy(update={"job": job}))
    with pytest.raises(Invalid, match=message):
        when([HIRED], ChangeJob(employee_id="e1", job=job, effective_on=date(2026, 2, 1)))


def test_provider_details_need_a_provider_role_and_a_valid_npi() -> None:
    bad = PROVIDER.model_copy(update={"npi": "1234567890"})
    with pytest.raises(Invalid, match="not a valid NPI"):
        when([], HIRE.model_copy(update={"provider": bad}))
    with pytest.raises(Invalid, match="only providers"):
        when([], HIRE.model_copy(update={"job": DESK, "provider": PROVIDER}))
    recorded = when([HIRED], RecordProviderDetails(employee_id="e1", details=PROVIDER))
    assert recorded == [ProviderDetailsRecorded(employee_id="e1", **dict(PROVIDER))]
    assert when([HIRED, *recorded], RecordProviderDetails(employee_id="e1", details=PROVIDER)) == []
    with pytest.raises(Rejected):
        when([HIRED, TERMINATED], RecordProviderDetails(employee_id="e1", details=PROVIDER))


def test_a_birth_date_lies_in_the_past() -> None:
    future = PersonalDetails(birth_date=date(2027, 1, 1))
    with pytest.raises(Invalid, match="birth date"):
        when([HIRED], RecordPersonalDetails(employee_id="e1", details=future, today=NOW.date()))
    with pytest.raises(Invalid, match="birth date"):
        when([], HIRE.model_copy(update={"personal": future}))


# ----------------------------------------------------------------------------- lifecycle


def test_a_job_change_records_the_new_job_and_the_same_again_nothing() -> None:
    change = ChangeJob(employee_id="e1", job=DESK, effective_on=date(2026, 2, 1))
    changed = when([HIRED], change)
    assert changed == [
        JobChanged(
            employee_id="e1", effective_on=date(2026, 2, 1), name=HIRED.name, **DESK.model_dump()
        )
    ]
    assert when([HIRED, *changed], change) == []


def test_leave_starts_and_ends_once() -> None:
    start = StartLeave(
        employee_id="e1", leave_id="l1", reason="parental", starts_on=date(2026, 3, 1)
    )
    assert when([HIRED], start) == [ON_LEAVE]
    assert when([HIRED, ON_LEAVE], start) == []  # the same leave again
    with pytest.raises(Rejected, match="on leave already"):
        when([HIRED, ON_LEAVE], start.model_copy(update={"leave_id": "l2"}))
    end = EndLeave(employee_id="e1", leave_id="l1", returned_on=date(2026, 5, 1))
    ended = LeaveEnded(employee_id="e1", leave_id="l1", returned_on=date(2026, 5, 1))
    assert when([HIRED, ON_LEAVE], end) == [ended]
    assert when([HIRED, ON_LEAVE, ended], end) == []
    with pytest.raises(Rejected, match="not on leave"):
        when([HIRED], end)
    with pytest.raises(Invalid, match="after the leave started"):
        when([HIRED, ON_LEAVE], end.model_copy(update={"returned_on": date(2026, 2, 1)}))
    with pytest.raises(Rejected, match="has ended"):
        when([HIRED, ON_LEAVE, ended], start)


def test_after_termination_only_a_rehire_is_allowed() -> None:
    terminate = Terminate(employee_id="e1", last_day=date(2026, 6, 30), reason="moved")
    assert when([HIRED], terminate) == [TERMINATED]
    assert when([HIRED, TERMINATED], terminate) == []  # the same termination again
    given = [HIRED, TERMINATED]
    refused: list[EmployeeCommand] = [
        ChangeJob(employee_id="e1", job=DESK, effective_on=date(2026, 7, 1)),
        StartLeave(employee_id="e1", leave_id="l9", reason="x", starts_on=date(2026, 7, 1)),
        terminate.model_copy(update={"reason": "another"}),
        RecordProviderDetails(employee_id="e1", details=PROVIDER),
    ]
    for command in refused:
        with pytest.raises(Rejected):
            when(given, command)
    rehire = Rehire(employee_id="e1", job=DESK, hired_on=date(2026, 9, 1))
    [rehired] = when(given, rehire)
    assert isinstance(rehired, EmployeeHired)
    assert rehired.rehired
    assert (rehired.name, rehired.site_ids) == ("Dr. A", DESK.site_ids)
    # Employed again: a job change is allowed, another rehire is not, and the same one is void.
    assert when([*given, rehired], rehire) == []
    with pytest.raises(Rejected, match="terminated employee"):
        when([*given, rehired], rehire.model_copy(update={"hired_on": date(2026, 10, 1)}))
    assert when([*given, rehired], ChangeJob(employee_id="e1", job=JOB, effective_on=NOW.date()))
    with pytest.raises(Rejected, match="terminated employee"):
        when([HIRED], rehire)


@pytest.mark.parametrize(
    "command",
    [
        Terminate(employee_id="e1", last_day=date(2025, 12, 31), reason="x"),
        StartLeave(employee_id="e1", leave_id="l", reason="x", starts_on=date(2025, 12, 1)),
        StartLeave(
            employee_id="e1",
            leave_id="l",
            reason="x",
            starts_on=date(2026, 3, 1),
            expected_return_on=date(2026, 2, 1),
        ),
        ChangeJob(employee_id="e1", job=DESK, effective_on=date(2025, 12, 1)),
    ],
)
def test_dates_in_the_wrong_order_are_invalid(command: EmployeeCommand) -> None:
    with pytest.raises(Invalid):
        when([HIRED], command)


def test_a_rehire_starts_after_the_last_day() -> None:
    with pytest.raises(Invalid, match="after the last day"):
        when([HIRED, TERMINATED], Rehire(employee_id="e1", job=JOB, hired_on=date(2026, 6, 30)))


def test_nothing_but_a_hire_for_someone_never_hired() -> None:
    with pytest.raises(NotFound):
        when([], Terminate(employee_id="e1", last_day=date(2026, 6, 30), reason="x"))


def test_forgotten_personal_data_is_not_recorded_again() -> None:
    forget = ForgetPersonalData(employee_id="e1", reason="asked", forgotten_at=NOW)
    forgotten = PersonalDataForgotten(employee_id="e1", reason="asked", forgotten_at=NOW)
    assert when([HIRED], forget) == [forgotten]
    assert when([HIRED, forgotten], forget) == []
    details = PersonalDetails(phone="1")
    again = RecordPersonalDetails(employee_id="e1", details=details, today=NOW.date())
    with pytest.raises(Rejected, match="forgotten"):
        when([HIRED, forgotten], again)
    with pytest.raises(Invalid):
        when([HIRED], forget.model_copy(update={"reason": " "}))


def test_a_read_of_personal_data_is_recorded_once_per_employee() -> None:
    command = RecordAccess(
        employee_ids=("e1", "e2", "e1"),
        endpoint="/staffing/employees/e1",
        purpose=None,
        outcome="disclosed",
        accessed_at=NOW,
    )
    events = access.decide(None, command)
    assert [e.employee_id for e in events if isinstance(e, PersonalRecordAccessed)] == ["e1", "e2"]
