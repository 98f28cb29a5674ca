"""Satisfaction surveys, one per completed visit, on `engagement-survey-<appointment>`: sent
once, answered once. The answer is likelihood to recommend (0-10) and a few experience
questions in the style of CAHPS, each with its allowed choices; a free-text comment is sealed
as PHI. NPS groups the answers by provider, site and the month of the visit.

NPS = 100 x (promoters - detractors) / answers, promoters scoring 9-10 and detractors 0-6;
rounded to a whole number, halves away from zero (+12.5 is 13, -12.5 is -13); no answers, no
NPS (None).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from pydantic import AwareDatetime

from services.engagement.domain.events import SurveyAnswer, SurveyAnswered, SurveySent
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

FREQUENCY = ("never", "sometimes", "usually", "always")
QUESTIONS: Mapping[str, tuple[str, ...]] = {
    "provider_explained_clearly": FREQUENCY,
    "provider_listened_carefully": FREQUENCY,
    "staff_courteous_and_helpful": FREQUENCY,
    "seen_within_15_minutes": ("yes", "no"),
}
DETRACTOR_MAX = 6
PROMOTER_MIN = 9


@dataclass(frozen=True)
class Survey:
    sent: SurveySent | None = None
    answered: bool = False


class SendSurvey(Command):
    survey_id: str
    patient_id: str
    appointment_id: str
    provider_id: str
    site_id: str
    visit_on: date
    now: AwareDatetime


class AnswerSurvey(Command):
    survey_id: str
    likelihood_to_recommend: int
    answers: tuple[SurveyAnswer, ...]
    comment: str = ""
    now: AwareDatetime


SurveyCommand = SendSurvey | AnswerSurvey


def check_answers(likelihood: int, answers: Sequence[SurveyAnswer]) -> None:
    """`Invalid` for a score outside 0-10, an unknown question, a choice not allowed, or a
    question answered twice. Questions may be skipped."""
    if not 0 <= likelihood <= 10:
        raise Invalid("likelihood to recommend is 0 to 10")
    seen: set[str] = set()
    for answer in answers:
        choices = QUESTIONS.get(answer.question)
        if choices is None:
            raise Invalid(f"no question {answer.question}")
        if answer.choice not in choices:
            raise Invalid(f"{answer.question} is answered with one of {', '.join(choices)}")
        if answer.question in seen:
            raise Invalid(f"{answer.question} is answered twice")
        seen.add(answer.question)


def _evolve(state: Survey, event: DomainEvent) -> Survey:
    match event:
        case SurveySent():
            return Survey(sent=event)
        case SurveyAnswered():
            return Survey(sent=state.sent, answered=True)
    return state


def _decide(state: Survey, c: SurveyCommand) -> Sequence[DomainEvent]:
    match c:
        case SendSurvey():
            if state.sent is not None:
                return []
            return [SurveySent(**c.model_dump(exclude={"now"}), sent_at=c.now)]
        case AnswerSurvey():
            if state.sent is None:
                raise NotFound(f"no survey {c.survey_id}")
            if state.answered:
                raise Rejected("the survey is answered already")
            check_answers(c.likelihood_to_recommend, c.answers)
            sent = state.sent
            return [
                SurveyAnswered(
                    survey_id=c.survey_id,
                    patient_id=sent.patient_id,
                    provider_id=sent.provider_id,
                    site_id=sent.site_id,
                    visit_on=sent.visit_on,
                    likelihood_to_recommend=c.likelihood_to_recommend,
                    answers=c.answers,
                    comment=c.comment,
                    answered_at=c.now,
                )
            ]


survey = Decider[Survey, SurveyCommand](Survey(), _evolve, _decide)


def is_detractor(answered: SurveyAnswered) -> bool:
    return answered.likelihood_to_recommend <= DETRACTOR_MAX


def nps(scores: Iterable[int]) -> int | None:
    """Net promoter score of 0-10 scores (see the module's docstring for the rounding)."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= PROMOTER_MIN)
    detractors = sum(1 for s in values if s <= DETRACTOR_MAX)
    exact = Decimal(100 * (promoters - detractors)) / Decimal(len(values))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


K = TypeVar("K", bound=Hashable)


def nps_by(answers: Iterable[SurveyAnswered], key: Callable[[SurveyAnswered], K]) -> dict[K, int]:
    groups: dict[K, list[int]] = {}
    for answer in answers:
        groups.setdefault(key(answer), []).append(answer.likelihood_to_recommend)
    return {k: score for k, scores in groups.items() if (score := nps(scores)) is not None}


def month_of(answer: SurveyAnswered) -> str:
    return f"{answer.visit_on:%Y-%m}"


def by_provider_month(answer: SurveyAnswered) -> tuple[str, str]:
    return (answer.provider_id, month_of(answer))


def by_site_month(answer: SurveyAnswered) -> tuple[str, str]:
    return (answer.site_id, month_of(answer))
