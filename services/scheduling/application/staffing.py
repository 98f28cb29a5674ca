"""What scheduling learns from staffing: its providers, their job, leave, termination,
licences and approved time off, from staffing's published events only.

The reaction turns each staffing event that concerns scheduling into a `Learn` command on the
provider's stream (the provider's id is their employee id). Staffing's events come from
several streams (the employee's, each credential's, each time-off request's), which the bus
orders only within one stream: a licence or time off may arrive before the hire, so the
provider's stream records them whenever they come (see `providers.Learn`). Each carries the
id of the staffing event it came from, so a redelivery records nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.scheduling.application.commands import Scheduling
from services.scheduling.application.reactions import caused_by
from services.scheduling.domain import providers
from services.scheduling.domain.events import (
    ProviderIdentified,
    ProviderJobChanged,
    ProviderLeaveEnded,
    ProviderLeaveStarted,
    ProviderLicenceRecorded,
    ProviderLicenceRenewed,
    ProviderLicenceRevoked,
    ProviderLicenceVerified,
    ProviderRegistered,
    ProviderTerminated,
    ProviderTimeOffApproved,
    ProviderTimeOffCancelled,
)
from services.staffing.contracts import (
    LICENCE_KINDS,
    PROVIDER_ROLES,
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    LeaveEnded,
    LeaveStarted,
    ProviderDetailsRecorded,
    TimeOffApproved,
    TimeOffCancelled,
)
from shared.commands import Outcome
from shared.events import DomainEvent, Envelope


def fact_from(event: DomainEvent, event_id: str) -> providers.ProviderFact | None:
    """The scheduling fact a staffing event tells (None: nothing scheduling keeps)."""
    match event:
        case EmployeeHired() if event.role in PROVIDER_ROLES:
            return ProviderRegistered(
                provider_id=event.employee_id,
                name=event.name,
                site_ids=event.site_ids,
                role=event.role,
                hired_on=event.hired_on,
                learnt_from=event_id,
            )
        case JobChanged():
            return ProviderJobChanged(
                provider_id=event.employee_id,
                role=event.role,
                site_ids=event.site_ids,
                effective_on=event.effective_on,
                sees_patients=event.role in PROVIDER_ROLES,
                learnt_from=event_id,
                name=event.name,
            )
        case LeaveStarted():
            return ProviderLeaveStarted(
                provider_id=event.employee_id,
                leave_id=event.leave_id,
                starts_on=event.starts_on,
                learnt_from=event_id,
            )
        case LeaveEnded():
            return ProviderLeaveEnded(
                provider_id=event.employee_id,
                leave_id=event.leave_id,
                returned_on=event.returned_on,
                learnt_from=event_id,
            )
        case EmployeeTerminated():
            return ProviderTerminated(
                provider_id=event.employee_id, last_day=event.last_day, learnt_from=event_id
            )
        case ProviderDetailsRecorded():
            return ProviderIdentified(
                provider_id=event.employee_id,
                npi=event.npi,
                taxonomy_code=event.taxonomy_code,
                specialty=event.specialty,
                learnt_from=event_id,
            )
        case CredentialRecorded() if event.kind in LICENCE_KINDS:
            return ProviderLicenceRecorded(
                provider_id=event.employee_id,
                licence_id=event.credential_id,
                kind=event.kind,
                valid_from=event.issued_on,
                valid_until=event.expires_on or date.max,
                learnt_from=event_id,
            )
        case CredentialRenewed():
            return ProviderLicenceRenewed(
                provider_id=event.employee_id,
                licence_id=event.credential_id,
                valid_until=event.expires_on,
                learnt_from=event_id,
            )
        case CredentialRevoked():
            return ProviderLicenceRevoked(
                provider_id=event.employee_id,
                licence_id=event.credential_id,
                effective_on=event.effective_on,
                learnt_from=event_id,
            )
        case CredentialVerified():
            # The day of the verification as staffing stamped it (in the offset it carries).
            return ProviderLicenceVerified(
                provider_id=event.employee_id,
                licence_id=event.credential_id,
                verified_on=event.verified_at.date(),
                passed=event.result == "verified",
                learnt_from=event_id,
            )
        case TimeOffApproved():
            return ProviderTimeOffApproved(
                provider_id=event.employee_id,
                time_off_id=event.request_id,
                start=event.start,
                end=event.end,
                learnt_from=event_id,
            )
        case TimeOffCancelled():
            return ProviderTimeOffCancelled(
                provider_id=event.employee_id, time_off_id=event.request_id, learnt_from=event_id
            )
    return None


class LearnFromStaffing:
    """Each staffing fact about a provider, recorded on the provider's stream once."""

    name = "scheduling.learn_from_staffing"
    contexts = ("staffing",)

    def __init__(self, scheduling: Scheduling) -> None:
        self._scheduling = scheduling

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        await learn(self._scheduling, event, envelope)


async def learn(
    scheduling: Scheduling, event: DomainEvent, envelope: Envelope
) -> Outcome[Any] | None:
    """Record what `event` (a staffing event, as delivered) tells scheduling, if anything."""
    fact = fact_from(event, envelope.id)
    if fact is None:
        return None
    command = providers.Learn(provider_id=fact.provider_id, fact=fact)
    return await scheduling.change_provider(caused_by(envelope), command)
