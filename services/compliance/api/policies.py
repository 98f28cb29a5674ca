"""Policies over HTTP: the compliance officer publishes, revises and retires them, and reminds
the staff who owe an acknowledgement; each employee acknowledges the current version on their
own token (`staff`, whose `sub` is their employee id); the officer, auditors and managers
(their sites' overdue list) read them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.compliance.application.policies import Policies
from services.compliance.domain.policies import PublishPolicy, policy_stream
from services.compliance.projections.policies import POLICIES, PROJECTION, policy_doc_id
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import (
    Body,
    Id,
    Name,
    PlausibleDay,
    Recorded,
    check_site,
    read_after,
    recorded,
)
from shared.readmodels import ReadModels

Manage = policy("compliance", changes_state=True)  # and admin
Acknowledge = policy("staff", changes_state=True)
Read = policy("compliance", "auditor")
ReadOverdue = policy("compliance", "auditor", "manager", site_scoped=True)

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Url = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^https://\S+$")]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class PolicyIn(Body):
    """A policy's version: its text (`body`), or a document kept elsewhere (`document_url` and
    its `document_sha256`); whom it binds (staffing's roles at sites; empty: everyone); and the
    days from `effective_on` they have to acknowledge it."""

    title: Name
    body: str | None = Field(default=None, min_length=1, max_length=100_000)
    document_url: Url | None = None
    document_sha256: Sha256 | None = None
    effective_on: PlausibleDay
    roles: list[Id] = Field(default_factory=list, max_length=20)
    site_ids: list[Id] = Field(default_factory=list, max_length=200)
    acknowledge_within_days: int = Field(ge=0, le=365)


class NewPolicyIn(PolicyIn):
    policy_id: Id | None = None


class RetirementIn(Body):
    retired_on: PlausibleDay
    reason: Reason


class ReminderIn(Body):
    site_id: Id | None = None


class Reminded(Recorded):
    """Who was reminded (none: everyone acknowledged, or was reminded today already)."""

    reminded: list[str]


class AcknowledgementIn(Body):
    version: int = Field(ge=1, le=1_000_000)


def _command(policy_id: str, body: PolicyIn, new: bool) -> PublishPolicy:
    return PublishPolicy(
        policy_id=policy_id,
        title=body.title,
        body=body.body,
        document_url=body.document_url,
        document_sha256=body.document_sha256,
        effective_on=body.effective_on,
        roles=tuple(body.roles),
        site_ids=tuple(body.site_ids),
        acknowledge_within_days=body.acknowledge_within_days,
        new=new,
    )


def build_router(policies: Policies, read_models: ReadModels, wait_timeout: float) -> APIRouter:
    router = APIRouter(prefix="/compliance/policies", tags=["policies"])

    @router.post("", status_code=201)
    async def publish(request: Request, body: NewPolicyIn, who: Principal = Manage) -> Recorded:
        """A new policy, version 1 (409 if `policy_id` is taken)."""
        policy_id = body.policy_id or policies.new_id()
        outcome = await policies.publish(metadata(request, who), _command(policy_id, body, True))
        return recorded(policy_id, outcome)

    @router.post("/{policy_id}/versions", status_code=201)
    async def revise(
        request: Request, policy_id: Id, body: PolicyIn, who: Principal = Manage
    ) -> Recorded:
        """The policy's next version: everyone it binds acknowledges it again."""
        outcome = await policies.publish(metadata(request, who), _command(policy_id, body, False))
        return recorded(policy_id, outcome)

    @router.post("/{policy_id}/retirement", status_code=201)
    async def retire(
        request: Request, policy_id: Id, body: RetirementIn, who: Principal = Manage
    ) -> Recorded:
        """The policy binds no one any more (409 if retired already)."""
        outcome = await policies.retire(
            metadata(request, who), policy_id, body.retired_on, body.reason
        )
        return recorded(policy_id, outcome)

    @router.post("/{policy_id}/reminders", status_code=201)
    async def remind(
        request: Request, policy_id: Id, body: ReminderIn, who: Principal = Manage
    ) -> Reminded:
        """Remind the staff the policy's current version binds (at `site_id`, if named) who
        have not acknowledged it; once a day each (409 once retired)."""
        outcome, reminded = await policies.remind(metadata(request, who), policy_id, body.site_id)
        done = recorded(policy_id, outcome)
        return Reminded(**done.model_dump(), reminded=list(reminded))

    @router.post("/{policy_id}/acknowledgements", status_code=201)
    async def acknowledge(
        request: Request, policy_id: Id, body: AcknowledgementIn, who: Principal = Acknowledge
    ) -> Recorded:
        """The caller (an employee, on their own `staff` token) acknowledges the policy's
        current `version` (409 for another version; a second time records nothing)."""
        if "staff" not in who.roles:
            raise HTTPException(403, "An employee acknowledges a policy on their own token")
        outcome = await policies.acknowledge(
            metadata(request, who), policy_id, body.version, who.sub
        )
        return recorded(policy_id, outcome)

    @router.get("")
    async def list_policies(
        who: Principal = Read, include_retired: bool = False
    ) -> list[dict[str, Any]]:
        """The tenant's policies (current version of each, without its body), by id."""
        return await policies.all(who.tenant, include_retired)

    @router.get("/overdue")
    async def overdue(site: Id, who: Principal = ReadOverdue) -> dict[str, Any]:
        """Who at `site` has not acknowledged a policy's current version past its due date.
        Managers read their own sites (403 for another); the officer and auditors any."""
        if not {"compliance", "auditor"} & set(who.roles):
            check_site(who, site)
        return {
            "site_id": site,
            "as_of": policies.today().isoformat(),
            "overdue": await policies.overdue(who.tenant, site),
        }

    @router.get("/{policy_id}")
    async def one(
        policy_id: Id,
        who: Principal = Read,
        after_version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
    ) -> dict[str, Any]:
        """A policy's current version, whole. `after_version` (of the policy's stream, as a
        write to it answered) waits for that write."""
        if after_version is not None:
            await read_after(
                read_models, PROJECTION, POLICIES, policy_doc_id(who.tenant, policy_id),
                policy_stream(who.tenant, policy_id), after_version, wait_timeout,
                policies.stream_version,
            )  # fmt: skip
        found = await policies.one(who.tenant, policy_id)
        if found is None:
            raise HTTPException(404, f"policy {policy_id} not found")
        return found

    return router
