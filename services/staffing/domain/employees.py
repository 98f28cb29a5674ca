"""An employee's record: hire, job changes, leave, termination and rehire, personal details and
provider details, all decided on one stream per employee (`streams.employee`).

The lifecycle: not hired → active ⇄ on leave → terminated → (rehire) active. A step the
lifecycle does not allow is refused (`Rejected`, 409); input that makes no sense (no sites, an
FTE outside (0, 1], a person who manages themself, an invalid NPI) is `Invalid` (422). A
command that asks for what is already so (the same hire, leave, return or termination sent
again) records nothing.

Personal details are recorded as plaintext here and sealed by the command handler under the
employee's own key (`PersonalDetailsRecorded.phi_subject`); once the employee's personal data
is forgotten, none is recorded again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.staffing.domain.events import (
    PROVIDER_ROLES,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    LeaveEnded,
    LeaveStarted,
    PersonalDataForgotten,
    PersonalDetailsRecorded,
    PersonalRecordAccessed,
    ProviderDetailsRecorded,
    Role,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent
from shared.identifiers import is_valid_npi

Status = Literal["none", "active", "on_leave", "terminated"]


class Job(BaseModel):
    """What an employee is employed as, and where."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    role: Role
    site_ids: tuple[str, ...]
    fte: float
    manager_id: str | None = None


class PersonalDetails(BaseModel):
    """Personal contact data (plaintext until the handler seals it). None: not given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home_address: str | None = None
    phone: str | None = None
    emergency_contact: str | None = None
    birth_date: date | None = None


class ProviderDetails(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    npi: str
    taxonomy_code: str
    specialty: str


class Hire(Command):
    employee_id: str
    name: str
    job: Job
    hired_on: date
    personal: PersonalDetails | None = None
    provider: ProviderDetails | None = None


class ChangeJob(Command):
    employee_id: str
    job: Job
    effective_on: date


class StartLeave(Command):
    employee_id: str
    leave_id: str
    reason: str
    starts_on: date
    expected_return_on: date | None = None


class EndLeave(Command):
    employee_id: str
    leave_id: str
    returned_on: date


class Terminate(Command):
    employee_id: str
    last_day: date
    reason: str


class Rehire(Command):
    employee_id: str
    job: Job
    hired_on: date


class RecordPersonalDetails(Command):
    employee_id: str
    details: PersonalDetails
    today: date  # a birth date after it is refused


class RecordProviderDetails(Command):
    employee_id: str
    details: ProviderDetails


class ForgetPersonalData(Command):
    employee_id: str
    reason: str
    forgotten_at: AwareDatetime


EmployeeCommand = (
    Hire
    | ChangeJob
    | StartLeave
    | EndLeave
    | Terminate
    | Rehire
    | RecordPersonalDetails
    | RecordProviderDetails
    | ForgetPersonalData
)


@dataclass(frozen=True)
class Employee:
    """An employee's record as their stream folds it."""

    status: Status = "none"
    hire: EmployeeHired | None = None  # the latest hire (or rehire)
    job: Job | None = None
    leave: LeaveStarted | None = None  # the leave under way
    ended_leaves: frozenset[str] = frozenset()
    termination: EmployeeTerminated | None = None  # of the latest employment
    provider: ProviderDetailsRecorded | None = None
    forgotten: bool = False

    @property
    def employed(self) -> bool:
        """Hired and not terminated (a termination's last day may still lie ahead)."""
        return self.status in ("active", "on_leave")


def _job_of(event: EmployeeHired | JobChanged) -> Job:
    return Job(
        title=event.title,
        role=event.role,
        site_ids=event.site_ids,
        fte=event.fte,
        manager_id=event.manager_id,
    )


def evolve(state: Employee, event: DomainEvent) -> Employee:
    match event:
        case EmployeeHired():
            return replace(
                state, status="active", hire=event, job=_job_of(event), leave=None, termination=None
            )
        case JobChanged():
            return replace(state, job=_job_of(event))
        case LeaveStarted():
            return replace(state, status="on_leave", leave=event)
        case LeaveEnded():
            return replace(
                state,
                status="active" if state.status == "on_leave" else state.status,
                leave=None,
                ended_leaves=state.ended_leaves | {event.leave_id},
            )
        case EmployeeTerminated():
            return replace(state, status="terminated", termination=event, leave=None)
        case ProviderDetailsRecorded():
            return replace(state, provider=event)
        case PersonalDataForgotten():
            return replace(state, forgotten=True)
    return state


def check_job(employee_id: str, job: Job) -> None:
    """422 for a job that makes no sense."""
    if not job.title.strip():
        raise Invalid("a job needs a title")
    if not job.site_ids:
        raise Invalid("an employee works at one site at least")
    if len(set(job.site_ids)) != len(job.site_ids):
        raise Invalid("a site is named twice")
    if not 0 < job.fte <= 1:
        raise Invalid("fte must be more than 0 and at most 1")
    if job.manager_id == employee_id:
        raise Invalid("an employee cannot be their own manager")


def check_provider(role: str, details: ProviderDetails) -> None:
    if role not in PROVIDER_ROLES:
        raise Invalid(f"only providers ({', '.join(PROVIDER_ROLES)}) have provider details")
    if not is_valid_npi(details.npi):
        raise Invalid(f"{details.npi!r} is not a valid NPI")
    if not details.taxonomy_code.strip() or not details.specialty.strip():
        raise Invalid("a provider needs a taxonomy code and a specialty")


def _personal(
    employee_id: str, details: PersonalDetails, today: date
) -> list[PersonalDetailsRecorded]:
    if details.birth_date is not None and details.birth_date >= today:
        raise Invalid("a birth date lies in the past")
    fields = details.model_dump(exclude_none=True)
    if not fields:
        return []
    if "birth_date" in fields:
        fields["birth_date"] = fields["birth_date"].isoformat()
    return [PersonalDetailsRecorded(employee_id=employee_id, **fields)]


def _hired(command: Hire | Rehire, rehired: bool, name: str) -> EmployeeHired:
    return EmployeeHired(
        employee_id=command.employee_id,
        name=name,
        hired_on=command.hired_on,
        rehired=rehired,
        **command.job.model_dump(),
    )


def _hire(state: Employee, command: Hire) -> Sequence[DomainEvent]:
    if not command.name.strip():
        raise Invalid("an employee needs a name")
    check_job(command.employee_id, command.job)
    if command.provider is not None:
        check_provider(command.job.role, command.provider)
    hired = _hired(command, False, command.name)
    if state.hire is not None:
        if state.employed and state.hire == hired and state.job == command.job:
            return []  # the same hire sent again
        if state.status == "terminated":
            raise Rejected(f"employee {command.employee_id} was terminated: rehire them")
        raise Rejected(f"employee {command.employee_id} is already hired")
    if state.forgotten:
        raise Rejected(f"employee {command.employee_id} was forgotten")
    events: list[DomainEvent] = [hired]
    if command.personal is not None:
        events += _personal(command.employee_id, command.personal, command.hired_on)
    if command.provider is not None:
        provider = dict(command.provider)
        events.append(ProviderDetailsRecorded(employee_id=command.employee_id, **provider))
    return events


def decide(state: Employee, command: EmployeeCommand) -> Sequence[DomainEvent]:
    if isinstance(command, Hire):
        return _hire(state, command)
    if state.hire is None:
        raise NotFound(f"employee {command.employee_id} not found")
    hire = state.hire
    match command:
        case ChangeJob():
            check_job(command.employee_id, command.job)
            if not state.employed:
                raise Rejected("the employee was terminated: rehire them first")
            if command.effective_on < hire.hired_on:
                raise Invalid("a job change takes effect after the hire")
            if command.job == state.job:
                return []
            return [
                JobChanged(
                    employee_id=command.employee_id,
                    effective_on=command.effective_on,
                    name=state.hire.name if state.hire is not None else None,
                    **command.job.model_dump(),
                )
            ]
        case StartLeave():
            if state.leave is not None and state.leave.leave_id == command.leave_id:
                return []  # the same leave sent again
            if command.leave_id in state.ended_leaves:
                raise Rejected(f"leave {command.leave_id} has ended")
            if state.status == "on_leave":
                raise Rejected("the employee is on leave already")
            if not state.employed:
                raise Rejected("the employee was terminated")
            if not command.reason.strip():
                raise Invalid("a leave needs a reason")
            if command.starts_on < hire.hired_on:
                raise Invalid("a leave starts after the hire")
            if (
                command.expected_return_on is not None
                and command.expected_return_on < command.starts_on
            ):
                raise Invalid("the expected return lies after the leave starts")
            return [LeaveStarted(**command.model_dump())]
        case EndLeave():
            if command.leave_id in state.ended_leaves and state.leave is None:
                return []  # ended already
            if state.leave is None or state.leave.leave_id != command.leave_id:
                raise Rejected(f"the employee is not on leave {command.leave_id}")
            if command.returned_on < state.leave.starts_on:
                raise Invalid("a return lies after the leave started")
            return [LeaveEnded(**command.model_dump())]
        case Terminate():
            if state.termination is not None:
                same = (state.termination.last_day, state.termination.reason)
                if same == (command.last_day, command.reason):
                    return []
                raise Rejected("the employee was terminated already")
            if not command.reason.strip():
                raise Invalid("a termination needs a reason")
            if command.last_day < hire.hired_on:
                raise Invalid("the last day lies on or after the hire")
            return [EmployeeTerminated(**command.model_dump())]
        case Rehire():
            check_job(command.employee_id, command.job)
            if state.termination is None:
                if state.employed and hire.rehired and hire.hired_on == command.hired_on:
                    if state.job == command.job:
                        return []  # the same rehire sent again
                raise Rejected("only a terminated employee is rehired")
            if command.hired_on <= state.termination.last_day:
                raise Invalid("a rehire starts after the last day")
            return [_hired(command, True, hire.name)]
        case RecordPersonalDetails():
            if state.forgotten:
                raise Rejected(f"employee {command.employee_id}'s personal data was forgotten")
            return _personal(command.employee_id, command.details, command.today)
        case RecordProviderDetails():
            if not state.employed:
                raise Rejected("the employee was terminated")
            assert state.job is not None
            check_provider(state.job.role, command.details)
            recorded = ProviderDetailsRecorded(
                employee_id=command.employee_id, **dict(command.details)
            )
            return [] if recorded == state.provider else [recorded]
        case ForgetPersonalData():
            if not command.reason.strip():
                raise Invalid("forgetting needs a reason")
            if state.forgotten:
                return []
            return [PersonalDataForgotten(**command.model_dump())]
    raise AssertionError(f"unhandled {type(command).__name__}")


employee = Decider[Employee, EmployeeCommand](Employee(), evolve, decide)


class RecordAccess(Command):
    employee_ids: tuple[str, ...]
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


def _record(_: None, command: RecordAccess) -> Sequence[DomainEvent]:
    fields = command.model_dump(exclude={"employee_ids"})
    return [
        PersonalRecordAccessed(employee_id=employee_id, **fields)
        for employee_id in dict.fromkeys(command.employee_ids)
    ]


# Each response's disclosures are a stream of their own, written in one commit (as scheduling
# records patients' record reads): recording one never waits for another.
access = Decider[None, RecordAccess](None, lambda state, _: state, _record)
