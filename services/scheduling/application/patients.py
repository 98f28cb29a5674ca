"""Patient use cases beyond registration: coverage, intake and same-day triage.

Registration and forgetting are in `commands.py`; every use case here refuses new PHI for a
forgotten patient (409), in the domain once `PatientForgotten` is recorded and in the vault as
soon as the patient's key is gone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.scheduling.application.appointments import Appointments
from services.scheduling.application.directory import check_patient
from services.scheduling.application.tag_index import TagIndex
from services.scheduling.domain import directory, streams
from services.scheduling.domain.events import SiteRegistered
from services.scheduling.domain.intake import (
    Answer,
    RecordCoverage,
    RecordIntake,
    Relationship,
    patient_file,
)
from services.scheduling.domain.triage import (
    MarkLeft,
    MarkSeen,
    Retriage,
    TriagePatient,
    queue_order,
    triage_day,
)
from services.scheduling.projections import triage_queue
from services.scheduling.projections.patients import COVERAGE_PHI, INTAKE_PHI, PHI_FIELDS
from shared.commands import CommandHandler, Outcome
from shared.documents.port import Document
from shared.domain import Invalid, NotFound
from shared.events import Metadata
from shared.phivault import REDACTED, PhiVault
from shared.readmodels import ReadModels
from shared.usecases import UseCases


class Patients(UseCases):
    def __init__(
        self,
        handler: CommandHandler,
        read_models: ReadModels,
        appointments: Appointments,
        tags: TagIndex,
    ) -> None:
        super().__init__(handler)
        self._read_models = read_models
        self._appointments = appointments
        self._tags = tags

    async def record_coverage(
        self,
        meta: Metadata,
        *,
        coverage_id: str,
        patient_id: str,
        payer_id: str,
        payer_name: str,
        plan: str,
        relationship: Relationship,
        member_id: str,
        priority: int | None = None,
        subscriber_name: str = "",
        group_number: str = "",
    ) -> Outcome[Any]:
        """Record a coverage, or update the one on file with this id; at a priority another
        coverage holds, this one replaces it (see `intake.RecordCoverage`)."""
        command = RecordCoverage(
            coverage_id=coverage_id,
            patient_id=patient_id,
            payer_id=payer_id,
            payer_name=payer_name,
            plan=plan,
            relationship=relationship,
            member_id=member_id,
            recorded_at=self._handler.clock.now(),
            priority=priority,
            subscriber_name=subscriber_name,
            group_number=group_number,
        )
        stream = streams.patient(meta.tenant, patient_id)
        return await self._handler.handle(stream, patient_file, command, meta, subject=patient_id)

    async def record_intake(
        self,
        meta: Metadata,
        *,
        intake_id: str,
        patient_id: str,
        appointment_id: str | None,
        reason_for_visit: str,
        answers: Sequence[tuple[str, str]],
        may_see_site: Callable[[str], bool] = lambda _: True,
    ) -> Outcome[Any]:
        """Record an intake; an appointment it names must be the patient's, at a site the
        caller may see."""
        await self._registered(meta.tenant, patient_id)  # an unknown patient is a 404 first
        if appointment_id is not None:
            try:
                _, found = await self._appointments.appointment(
                    meta.tenant, appointment_id, may_see_site
                )
            except NotFound:
                found = None
            if found is None or found.booked.patient_id != patient_id:
                raise Invalid(f"appointment {appointment_id} is not one of patient {patient_id}'s")
        command = RecordIntake(
            intake_id=intake_id,
            patient_id=patient_id,
            appointment_id=appointment_id,
            reason_for_visit=reason_for_visit,
            answers=tuple(Answer(question=q, answer=a) for q, a in answers),
            recorded_at=self._handler.clock.now(),
        )
        stream = streams.patient(meta.tenant, patient_id)
        return await self._handler.handle(stream, patient_file, command, meta, subject=patient_id)

    async def triage(
        self,
        meta: Metadata,
        *,
        triage_id: str,
        site_id: str,
        patient_id: str,
        urgency: int,
        chief_complaint: str,
    ) -> Outcome[Any]:
        """Put a registered patient in the site's queue for today (the site's local date)."""
        site = await self.site(meta.tenant, site_id)
        await self._registered(meta.tenant, patient_id)
        now = self._handler.clock.now()
        command = TriagePatient(
            triage_id=triage_id,
            patient_id=patient_id,
            site_id=site_id,
            urgency=urgency,
            chief_complaint=chief_complaint,
            arrived_at=now,
        )
        stream = streams.triage_day(meta.tenant, site_id, self._local_date(site, now))
        meta = meta.model_copy(update={"site": site_id})
        return await self._handler.handle(stream, triage_day, command, meta, subject=triage_id)

    async def retriage(
        self, meta: Metadata, site_id: str, triage_id: str, urgency: int
    ) -> Outcome[Any]:
        command = Retriage(
            triage_id=triage_id, urgency=urgency, retriaged_at=self._handler.clock.now()
        )
        return await self._change_entry(meta, site_id, command)

    async def mark_seen(self, meta: Metadata, site_id: str, triage_id: str) -> Outcome[Any]:
        command = MarkSeen(triage_id=triage_id, seen_at=self._handler.clock.now())
        return await self._change_entry(meta, site_id, command)

    async def mark_left(self, meta: Metadata, site_id: str, triage_id: str) -> Outcome[Any]:
        command = MarkLeft(triage_id=triage_id, left_at=self._handler.clock.now())
        return await self._change_entry(meta, site_id, command)

    async def triage_queue(
        self, tenant: str, site_id: str, day: date | None
    ) -> tuple[date, list[Document]]:
        """The site's waiting entries on `day` (default: today there), in serving order."""
        site = await self.site(tenant, site_id)
        day = day or self._local_date(site, self._handler.clock.now())
        entries = await self._read_models.find(
            triage_queue.PROJECTION,
            triage_queue.TRIAGE,
            {"tenant": tenant, "site_id": site_id, "date": day.isoformat(), "status": "waiting"},
        )
        entries.sort(
            key=lambda e: queue_order(
                e["urgency"], datetime.fromisoformat(e["arrived_at"]), e["triage_id"]
            )
        )
        return day, entries

    async def site(self, tenant: str, site_id: str) -> SiteRegistered:
        state, _ = await self._handler.load(streams.site(tenant, site_id), directory.site)
        if not isinstance(state.event, SiteRegistered):
            raise NotFound(f"site {site_id} not found")
        return state.event

    async def _registered(self, tenant: str, patient_id: str) -> None:
        """Refuse an unknown (404) or forgotten (409) patient."""
        await check_patient(self._handler, tenant, patient_id)

    async def _change_entry(
        self, meta: Metadata, site_id: str, command: Retriage | MarkSeen | MarkLeft
    ) -> Outcome[Any]:
        # The entry's queue (its site and day) is the stream its triage was tagged on.
        found = await self._tags.streams(streams.triage_tag(meta.tenant, command.triage_id))
        if not found or streams.site_day_parts(found[-1])[0] != site_id:
            raise NotFound(f"triage {command.triage_id} not found")
        meta = meta.model_copy(update={"site": site_id})
        return await self._handler.handle(
            found[-1], triage_day, command, meta, subject=command.triage_id
        )

    @staticmethod
    def _local_date(site: SiteRegistered, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(site.time_zone)).date()


async def open_patient(vault: PhiVault, tenant: str, record: dict[str, Any]) -> None:
    """Open a patient document's PHI in place: demographics, member ids, intakes.

    A forgotten patient's PHI reads "[redacted]", questionnaire answers included.
    """
    for name in PHI_FIELDS:
        record.setdefault(name, "")  # registered before the field existed
    await vault.reveal_fields(tenant, record, *PHI_FIELDS)
    for coverage in record.setdefault("coverages", []):
        # Recorded before priorities: primary, the patient their own subscriber, no group.
        for name, default in (("priority", 1), ("subscriber_name", ""), ("group_number", "")):
            coverage.setdefault(name, default)
        await vault.reveal_fields(tenant, coverage, *COVERAGE_PHI)
    for intake in record.setdefault("intakes", []):
        await vault.reveal_fields(tenant, intake, *INTAKE_PHI)
        if intake["answers"] != REDACTED:
            intake["answers"] = json.loads(intake["answers"])
