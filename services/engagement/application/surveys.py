"""Satisfaction surveys and the feedback cases detractors open.

A completed visit (scheduling's `VisitCompleted`, consumer group `reactor.engagement.surveys`)
records the visit's survey (`SurveySent`, once, on `engagement-survey-<appointment>`) and plans
its message on the appointment's stream (`domain/survey_messages.py`), which the delivery timer
sends with its signed survey link: only for a patient with a consented channel then, the
channel's consent checked again when it fires. The patient answers once over a public route,
the token their authority; the comment is sealed under their key as it is recorded. A
detractor's answer (`SurveyAnswered` on engagement's own topic, consumer group
`reactor.engagement.detractor_cases`) opens a complaint, once (`cases.case_for_detractor`).
"""

from __future__ import annotations

from typing import Any

from services.engagement.application.consent import Consents
from services.engagement.application.links import LinkSigner
from services.engagement.application.messages import AppointmentMessagesUseCases
from services.engagement.domain import streams
from services.engagement.domain.cases import case_for_detractor, feedback_case
from services.engagement.domain.events import SurveyAnswer, SurveyAnswered
from services.engagement.domain.survey_messages import PlanSurvey, survey_message
from services.engagement.domain.surveys import QUESTIONS, AnswerSurvey, SendSurvey, Survey, survey
from services.scheduling.contracts import VisitCompleted
from shared.commands import CommandHandler, Outcome
from shared.events import DomainEvent, Envelope, Metadata
from shared.usecases import UseCases

SYSTEM = "system:engagement"


def detractor_case_id(survey_id: str) -> str:
    return f"survey-{survey_id}"


def _patient(event: object) -> str | None:
    return getattr(event, "patient_id", None)


class Surveys(UseCases):
    def __init__(
        self,
        handler: CommandHandler,
        consents: Consents,
        messages: AppointmentMessagesUseCases,
        signer: LinkSigner,
    ) -> None:
        super().__init__(handler)
        self._consents = consents
        self._messages = messages
        self._signer = signer

    async def after_visit(self, meta: Metadata, visit: VisitCompleted) -> None:
        """Record the visit's survey and plan its message; nothing for a patient with no
        consented channel (a redelivery records nothing new)."""
        consent = await self._consents.of(meta.tenant, visit.patient_id)
        if consent.channel() is None:
            return
        zone = await self._messages.zone(meta.tenant, visit.site_id)
        send = SendSurvey(
            survey_id=visit.appointment_id,
            patient_id=visit.patient_id,
            appointment_id=visit.appointment_id,
            provider_id=visit.provider_id,
            site_id=visit.site_id,
            visit_on=visit.start.astimezone(zone).date(),
            now=self.now(),
        )
        stream = streams.survey(meta.tenant, visit.appointment_id)
        await self.decide(stream, survey, send, meta, subject=visit.patient_id)
        plan = PlanSurvey(
            appointment_id=visit.appointment_id,
            patient_id=visit.patient_id,
            site_id=visit.site_id,
            start=visit.start,
            completed_at=visit.completed_at,
            zone=zone,
            consent=consent,
            now=self.now(),
        )
        appointment = streams.appointment(meta.tenant, visit.appointment_id)
        await self.decide(appointment, survey_message, plan, meta, subject=visit.patient_id)

    async def form(self, tenant: str, token: str) -> dict[str, Any]:
        """What the survey asks, and whether it was answered (from the event store)."""
        survey_id = self._signer.claim(tenant, token, self.now(), "survey").appointment_id
        state = await self.state(streams.survey(tenant, survey_id), survey)
        return {
            "survey_id": survey_id,
            "answered": state.answered,
            "likelihood_to_recommend": "0 (not at all likely) to 10 (extremely likely)",
            "questions": {question: list(choices) for question, choices in QUESTIONS.items()},
        }

    async def answer(
        self,
        tenant: str,
        token: str,
        correlation_id: str,
        likelihood_to_recommend: int,
        answers: tuple[SurveyAnswer, ...],
        comment: str,
    ) -> tuple[str, Outcome[Survey]]:
        """The survey's id and where its stream stands after the answer."""
        survey_id = self._signer.claim(tenant, token, self.now(), "survey").appointment_id
        meta = Metadata(
            tenant=tenant, actor=f"patient-survey:{survey_id}", correlation_id=correlation_id
        )
        command = AnswerSurvey(
            survey_id=survey_id,
            likelihood_to_recommend=likelihood_to_recommend,
            answers=answers,
            comment=comment,
            now=self.now(),
        )
        stream = streams.survey(tenant, survey_id)
        return survey_id, await self.decide(stream, survey, command, meta, subject=_patient)

    async def open_case_for(self, meta: Metadata, answered: SurveyAnswered) -> None:
        """A detractor's complaint, due in a week (nothing for anyone else, nothing twice)."""
        case_id = detractor_case_id(answered.survey_id)
        opening = case_for_detractor(answered, case_id, answered.answered_at.date())
        stream = streams.case(meta.tenant, case_id)
        # Opened already (a redelivery): its stored summary is sealed, so the decider could not
        # tell it from another opening; the case's id is the survey's, which is answered once.
        if opening is None or (await self.state(stream, feedback_case)).opened is not None:
            return
        await self.decide(stream, feedback_case, opening, meta, subject=_patient)


def caused_by(envelope: Envelope) -> Metadata:
    return Metadata.reacting_to(envelope, SYSTEM)


class PlanSurveys:
    name = "engagement.surveys"
    contexts = ("scheduling",)

    def __init__(self, surveys: Surveys) -> None:
        self._surveys = surveys

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, VisitCompleted):
            await self._surveys.after_visit(caused_by(envelope), event)


class OpenDetractorCases:
    name = "engagement.detractor_cases"
    contexts = ("engagement",)

    def __init__(self, surveys: Surveys) -> None:
        self._surveys = surveys

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, SurveyAnswered):
            await self._surveys.open_case_for(caused_by(envelope), event)
