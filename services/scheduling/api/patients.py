"""Patient HTTP API beyond registration: coverage, intake and the same-day triage queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.scheduling.api.directory import (
    Body,
    Day,
    Id,
    Name,
    Recorded,
    check_site,
    recorded,
)
from services.scheduling.application.commands import Scheduling
from services.scheduling.application.patients import Patients
from services.scheduling.domain.intake import Relationship
from services.scheduling.projections import triage_queue
from services.scheduling.projections.patients import PATIENTS
from services.scheduling.projections.patients import PROJECTION as PATIENTS_PROJECTION
from shared.access import record_disclosure
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.phivault import PhiVault
from shared.readmodels import ReadModels

# Insurance details are taken at the front desk; intake also by clinicians. Patients belong to
# the group, so coverage is not site-scoped; an intake may name an appointment, which must be
# at one of the caller's sites.
Coverage = policy("front_desk", "manager", changes_state=True)
Intake = policy("front_desk", "clinician", "manager", site_scoped=True, changes_state=True)
# The triage queue is a site's: its own front desk, clinicians and managers work it.
Triage = policy("front_desk", "clinician", "manager", site_scoped=True, changes_state=True)
QueueReaders = policy("front_desk", "clinician", "manager", "auditor", site_scoped=True)

Priority = Annotated[int, Field(ge=1, le=3, strict=True)]

# 1 is the most urgent, 5 the least: the Emergency Severity Index's scale. JSON integers only.
Urgency = Annotated[int, Field(ge=1, le=5, strict=True)]


class CoverageIn(Body):
    coverage_id: Id | None = None
    payer_id: Id
    payer_name: Name
    plan: Name
    relationship: Relationship  # the patient to the subscriber
    member_id: Annotated[str, Field(min_length=1, max_length=80)]
    # 1 primary, 2 secondary, 3 tertiary; left out: the coverage's own if it is on file, else
    # the first free one. At a priority another coverage holds, this one replaces it.
    priority: Priority | None = None
    subscriber_name: Annotated[str, Field(max_length=200)] = ""  # required unless "self"
    group_number: Annotated[str, Field(max_length=50)] = ""


class AnswerIn(Body):
    question: Annotated[str, Field(min_length=1, max_length=500)]
    answer: Annotated[str, Field(max_length=2000)]


class IntakeIn(Body):
    intake_id: Id | None = None
    reason_for_visit: Annotated[str, Field(min_length=1, max_length=2000)]
    appointment_id: Id | None = None
    answers: Annotated[list[AnswerIn], Field(max_length=100)] = []


class TriageIn(Body):
    triage_id: Id | None = None
    patient_id: Id
    urgency: Urgency
    chief_complaint: Annotated[str, Field(max_length=500)] = ""


class RetriageIn(Body):
    urgency: Urgency


def add_patient_routes(
    router: APIRouter,
    scheduling: Scheduling,
    patients: Patients,
    read_models: ReadModels,
    vault: PhiVault,
) -> None:
    """Add these endpoints to the scheduling router (prefix /scheduling). Added, not included:
    the app publishes the policies of a router's own routes."""

    @router.post("/patients/{patient_id}/coverage", status_code=201)
    async def record_coverage(
        request: Request, patient_id: Id, body: CoverageIn, who: Principal = Coverage
    ) -> Recorded:
        """Record an insurance coverage, or update the one with this `coverage_id`; one
        recorded at a priority another coverage holds replaces that one. The member id and
        the subscriber's name are sealed under the patient's key."""
        coverage_id = body.coverage_id or patients.new_id()
        outcome = await patients.record_coverage(
            metadata(request, who),
            coverage_id=coverage_id,
            patient_id=patient_id,
            payer_id=body.payer_id,
            payer_name=body.payer_name,
            plan=body.plan,
            relationship=body.relationship,
            member_id=body.member_id,
            priority=body.priority,
            subscriber_name=body.subscriber_name,
            group_number=body.group_number,
        )
        return recorded(coverage_id, outcome)

    @router.post("/patients/{patient_id}/intake", status_code=201)
    async def record_intake(
        request: Request, patient_id: Id, body: IntakeIn, who: Principal = Intake
    ) -> Recorded:
        """Record why the patient comes and their questionnaire answers (all sealed PHI)."""
        intake_id = body.intake_id or patients.new_id()
        outcome = await patients.record_intake(
            metadata(request, who),
            intake_id=intake_id,
            patient_id=patient_id,
            appointment_id=body.appointment_id,
            reason_for_visit=body.reason_for_visit,
            answers=[(a.question, a.answer) for a in body.answers],
            may_see_site=who.at_site,
        )
        return recorded(intake_id, outcome)

    @router.post("/sites/{site_id}/triage", status_code=201)
    async def triage(
        request: Request, site_id: Id, body: TriageIn, who: Principal = Triage
    ) -> Recorded:
        """A same-day patient joins the site's queue for today, urgency 1 (most urgent) to 5;
        the arrival time is now."""
        check_site(who, site_id)
        triage_id = body.triage_id or patients.new_id()
        outcome = await patients.triage(
            metadata(request, who),
            triage_id=triage_id,
            site_id=site_id,
            patient_id=body.patient_id,
            urgency=body.urgency,
            chief_complaint=body.chief_complaint,
        )
        return recorded(triage_id, outcome)

    @router.post("/sites/{site_id}/triage/{triage_id}/retriage")
    async def retriage(
        request: Request, site_id: Id, triage_id: Id, body: RetriageIn, who: Principal = Triage
    ) -> Recorded:
        """Change a waiting patient's urgency; their place follows it."""
        check_site(who, site_id)
        outcome = await patients.retriage(metadata(request, who), site_id, triage_id, body.urgency)
        return recorded(triage_id, outcome)

    @router.post("/sites/{site_id}/triage/{triage_id}/seen")
    async def seen(
        request: Request, site_id: Id, triage_id: Id, who: Principal = Triage
    ) -> Recorded:
        """The patient is called in to be seen: they leave the queue."""
        check_site(who, site_id)
        return recorded(
            triage_id, await patients.mark_seen(metadata(request, who), site_id, triage_id)
        )

    @router.post("/sites/{site_id}/triage/{triage_id}/left")
    async def left(
        request: Request, site_id: Id, triage_id: Id, who: Principal = Triage
    ) -> Recorded:
        """The patient left without being seen: they leave the queue."""
        check_site(who, site_id)
        return recorded(
            triage_id, await patients.mark_left(metadata(request, who), site_id, triage_id)
        )

    @router.get("/sites/{site_id}/triage-queue")
    async def queue(
        request: Request,
        site_id: Id,
        who: Principal = QueueReaders,
        day: Annotated[Day | None, Query(alias="date")] = None,
    ) -> dict[str, Any]:
        """The patients waiting at the site on a local date (default today there), most urgent
        first, then by arrival. The read is recorded as PatientRecordAccessed per patient."""
        if not who.at_site(site_id):
            raise HTTPException(404, f"site {site_id} not found")
        day, entries = await patients.triage_queue(who.tenant, site_id, day)
        names = await patient_names(
            read_models, vault, who.tenant, [e["patient_id"] for e in entries]
        )
        waiting = []
        for entry in entries:
            await vault.reveal_fields(who.tenant, entry, *triage_queue.PHI_FIELDS)
            waiting.append(
                {
                    "triage_id": entry["triage_id"],
                    "patient_id": entry["patient_id"],
                    "patient_name": names.get(entry["patient_id"]),
                    "urgency": entry["urgency"],
                    "chief_complaint": entry["chief_complaint"],
                    "arrived_at": entry["arrived_at"],
                }
            )
        await record_disclosure(scheduling, request, who, [e["patient_id"] for e in waiting])
        return {"site_id": site_id, "date": day.isoformat(), "waiting": waiting}


async def patient_names(
    read_models: ReadModels, vault: PhiVault, tenant: str, patient_ids: list[str]
) -> dict[str, str]:
    """The patients' names, opened, in one read of the patients read model."""
    if not patient_ids:
        return {}
    collection = await read_models.collection(PATIENTS_PROJECTION, PATIENTS)
    docs = await read_models.store.get_many(collection, [f"{tenant}:{p}" for p in patient_ids])
    return {doc["patient_id"]: await vault.reveal(tenant, doc["name"]) for doc in docs.values()}
