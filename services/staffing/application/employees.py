"""Employee use cases: each one command decided on the employee's stream.

What a command needs to know about another employee (that a manager exists and is employed)
is folded from that employee's stream, never read from a read model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.staffing.domain import employees, streams
from services.staffing.domain.employees import (
    ChangeJob,
    EmployeeCommand,
    ForgetPersonalData,
    Hire,
    Job,
    PersonalDetails,
    ProviderDetails,
    RecordAccess,
    RecordPersonalDetails,
    RecordProviderDetails,
    Rehire,
)
from shared.commands import Outcome
from shared.domain import Invalid
from shared.events import DomainEvent, Metadata
from shared.usecases import UseCases


def _employee_of(event: DomainEvent) -> str | None:
    return getattr(event, "employee_id", None)


class Employees(UseCases):
    """Hire, change, leave, terminate, rehire; personal and provider details; who read them."""

    async def employee(self, tenant: str, employee_id: str) -> employees.Employee:
        """An employee's record, folded from their stream."""
        return await self.state(streams.employee(tenant, employee_id), employees.employee)

    async def _check_manager(self, tenant: str, employee_id: str, job: Job) -> None:
        if job.manager_id is None or job.manager_id == employee_id:
            return  # none, or refused by the decider
        manager = await self.employee(tenant, job.manager_id)
        if not manager.employed:
            raise Invalid(f"manager {job.manager_id} is not an employee")

    async def _decide(self, meta: Metadata, command: EmployeeCommand) -> Outcome[Any]:
        stream = streams.employee(meta.tenant, command.employee_id)
        return await self.decide(
            stream, employees.employee, command, meta, subject=command.employee_id
        )

    async def hire(self, meta: Metadata, command: Hire) -> Outcome[Any]:
        await self._check_manager(meta.tenant, command.employee_id, command.job)
        return await self._decide(meta, command)

    async def change_job(self, meta: Metadata, command: ChangeJob) -> Outcome[Any]:
        await self._check_manager(meta.tenant, command.employee_id, command.job)
        return await self._decide(meta, command)

    async def rehire(self, meta: Metadata, command: Rehire) -> Outcome[Any]:
        await self._check_manager(meta.tenant, command.employee_id, command.job)
        return await self._decide(meta, command)

    async def change(self, meta: Metadata, command: EmployeeCommand) -> Outcome[Any]:
        """Leave, return, termination: decided on the employee's stream as they are."""
        return await self._decide(meta, command)

    async def record_personal_details(
        self, meta: Metadata, employee_id: str, details: PersonalDetails
    ) -> Outcome[Any]:
        command = RecordPersonalDetails(
            employee_id=employee_id, details=details, today=self.now().date()
        )
        return await self._decide(meta, command)

    async def record_provider_details(
        self, meta: Metadata, employee_id: str, details: ProviderDetails
    ) -> Outcome[Any]:
        command = RecordProviderDetails(employee_id=employee_id, details=details)
        return await self._decide(meta, command)

    async def forget_personal_data(
        self, meta: Metadata, employee_id: str, reason: str
    ) -> Outcome[Any]:
        """Destroy the employee's data key, then record that it was done and why.

        As for patients: the key goes first (a crash in between leaves the data unreadable and
        the retry records the event); the request is decided once before, so one the decider
        refuses (an unknown employee, a blank reason) destroys nothing.
        """
        vault = self._handler.vault
        if vault is None:
            raise Invalid("this service keeps no personal data keys")
        command = ForgetPersonalData(
            employee_id=employee_id, reason=reason, forgotten_at=self.now()
        )
        employees.employee.decide(await self.employee(meta.tenant, employee_id), command)
        await vault.forget(meta.tenant, employee_id)
        return await self._decide(meta, command)

    async def record_access(
        self, meta: Metadata, patient_ids: Iterable[str], endpoint: str, purpose: str | None
    ) -> None:
        """Put on the record that a response disclosed these employees' personal data
        (`shared.access.AccessLog`: its ids are employees' here)."""
        command = RecordAccess(
            employee_ids=tuple(patient_ids),
            endpoint=endpoint,
            purpose=purpose,
            outcome="disclosed",
            accessed_at=self.now(),
        )
        if not command.employee_ids:
            return
        stream = streams.personal_access(meta.tenant, self.new_id())
        await self.decide(stream, employees.access, command, meta, subject=_employee_of)
