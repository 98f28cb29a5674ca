"""What scheduling does with a patient's answer through engagement's signed link (consumer
group `reactor.scheduling.patient_links`, on engagement's topic): the confirmation or the
cancellation the front desk would record, as actor `patient-link:<appointment>`, refused if the
visit has moved from the start the patient's message named. The outcome (applied, or refused
with scheduling's reason) is recorded once per answer on `patient-answer:<answer_id>`, where
engagement learns it (`PatientLinkAnswerApplied`, `PatientLinkAnswerRefused`); a redelivered
answer finds its outcome there and issues nothing.

A process that dies between the command and its outcome leaves the answer without one: the
redelivery then confirms again (which records nothing new) or finds the appointment cancelled
(by this answer) and records the answer as refused for that reason.
"""

from __future__ import annotations

from services.engagement.contracts import PatientAnsweredLink
from services.scheduling.application.appointments import Appointments
from services.scheduling.application.reactions import caused_by
from services.scheduling.domain import patient_answers, streams
from shared.commands import CommandHandler
from shared.domain import NotFound, Rejected
from shared.events import DomainEvent, Envelope, Metadata
from shared.usecases import UseCases

CANCELLED_BY_LINK = "cancelled by the patient through the link in a message"


def actor(appointment_id: str) -> str:
    return f"patient-link:{appointment_id}"


class PatientLinks(UseCases):
    def __init__(self, handler: CommandHandler, appointments: Appointments) -> None:
        super().__init__(handler)
        self._appointments = appointments

    async def answer(self, meta: Metadata, answered: PatientAnsweredLink) -> None:
        stream = streams.patient_answer(meta.tenant, answered.answer_id)
        if (await self.state(stream, patient_answers.patient_answer)).outcome is not None:
            return  # a redelivery: answered once
        meta = meta.model_copy(update={"actor": actor(answered.appointment_id)})
        refused: str | None = None
        try:
            if answered.action == "confirm":
                await self._appointments.confirm(
                    meta, answered.appointment_id, expected_start=answered.appointment_start
                )
            else:
                await self._appointments.cancel(
                    meta,
                    answered.appointment_id,
                    CANCELLED_BY_LINK,
                    expected_start=answered.appointment_start,
                )
        except (Rejected, NotFound) as exc:
            refused = exc.reason
        record = patient_answers.RecordPatientAnswer(
            answer_id=answered.answer_id,
            appointment_id=answered.appointment_id,
            action=answered.action,
            refused_because=refused,
            at=self.now(),
        )
        await self.decide(
            stream, patient_answers.patient_answer, record, meta, subject=answered.appointment_id
        )


class AnswerPatientLinks:
    name = "scheduling.patient_links"
    contexts = ("engagement",)

    def __init__(self, links: PatientLinks) -> None:
        self._links = links

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, PatientAnsweredLink):
            await self._links.answer(caused_by(envelope), event)
