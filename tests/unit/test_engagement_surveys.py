"""Surveys after a completed visit: sent once, answered once with validated answers; NPS per
provider, site and month with its rounding rule; a detractor opens a feedback case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.engagement.domain.cases import case_for_detractor
from services.engagement.domain.events import SurveyAnswer, SurveyAnswered, SurveySent
from services.engagement.domain.surveys import (
    AnswerSurvey,
    SendSurvey,
    SurveyCommand,
    by_provider_month,
    by_site_month,
    nps,
    nps_by,
    survey,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
SEND = SendSurvey(
    survey_id="sv-1",
    patient_id="pt-1",
    appointment_id="ap-1",
    provider_id="pr-1",
    site_id="site-1",
    visit_on=date(2026, 3, 2),
    now=NOW,
)
SENT = SurveySent(**SEND.model_dump(exclude={"now"}), sent_at=NOW)
ALWAYS = SurveyAnswer(question="provider_listened_carefully", choice="always")


def when(given: Sequence[DomainEvent], command: SurveyCommand) -> Sequence[DomainEvent]:
    return survey.decide(survey.fold(given), command)


def answer(score: int, *answers: SurveyAnswer, comment: str = "") -> AnswerSurvey:
    return AnswerSurvey(
        survey_id="sv-1",
        likelihood_to_recommend=score,
        answers=answers,
        comment=comment,
        now=NOW,
    )


def answered(
    score: int, provider: str = "pr-1", site: str = "site-1", on: date = date(2026, 3, 2)
) -> SurveyAnswered:
    return SurveyAnswered(
        survey_id="sv-1",
        patient_id="pt-1",
        provider_id=provider,
        site_id=site,
        visit_on=on,
        likelihood_to_recommend=score,
        answers=(),
        answered_at=NOW,
    )


def test_a_survey_is_sent_once_per_visit() -> None:
    assert when([], SEND) == [SENT]
    assert when([SENT], SEND) == []


def test_an_answer_is_recorded_once_with_its_comment_as_phi() -> None:
    got = when([SENT], answer(9, ALWAYS, comment="Lovely nurse"))
    assert got == [
        SurveyAnswered(
            survey_id="sv-1",
            patient_id="pt-1",
            provider_id="pr-1",
            site_id="site-1",
            visit_on=date(2026, 3, 2),
            likelihood_to_recommend=9,
            answers=(ALWAYS,),
            comment="Lovely nurse",
            answered_at=NOW,
        )
    ]
    assert SurveyAnswered.phi_field_names() == ("comment",)
    with pytest.raises(Rejected):
        when([SENT, *got], answer(3))
    with pytest.raises(NotFound):
        when([], answer(3))


@pytest.mark.parametrize(
    "bad",
    [
        answer(11),
        answer(-1),
        answer(5, SurveyAnswer(question="parking", choice="always")),
        answer(5, SurveyAnswer(question="seen_within_15_minutes", choice="always")),
        answer(5, ALWAYS, ALWAYS),
    ],
    ids=["above-10", "below-0", "unknown-question", "choice-not-allowed", "twice"],
)
def test_answers_outside_the_survey_are_refused(bad: AnswerSurvey) -> None:
    with pytest.raises(Invalid):
        when([SENT], bad)


def test_nps_is_promoters_less_detractors_rounded_halves_away_from_zero() -> None:
    assert nps([]) is None
    assert nps([10, 9, 8, 7]) == 50  # 2 promoters, 0 detractors of 4
    assert nps([10, 9, 8, 6, 0, 10, 7, 3]) == 0  # 3 - 3 of 8
    assert nps([10, 9, 9, 8, 8, 8, 8, 0]) == 25  # 3 - 1 of 8: 25
    assert nps([10, 8, 8, 8, 8, 8, 8, 8]) == 13  # 1 of 8: 12.5, away from zero
    assert nps([0, 8, 8, 8, 8, 8, 8, 8]) == -13  # -12.5
    assert nps([10, 10, 0]) == 33  # 33.33...
    assert nps([6, 6, 6]) == -100


def test_nps_per_provider_site_and_month() -> None:
    answers = [
        answered(10),
        answered(9),
        answered(3),
        answered(10, provider="pr-2"),
        answered(5, provider="pr-2", site="site-2"),
        answered(9, on=date(2026, 4, 1)),
    ]
    assert nps_by(answers, by_provider_month) == {
        ("pr-1", "2026-03"): 33,
        ("pr-2", "2026-03"): 0,
        ("pr-1", "2026-04"): 100,
    }
    assert nps_by(answers, by_site_month) == {
        ("site-1", "2026-03"): 50,
        ("site-2", "2026-03"): -100,
        ("site-1", "2026-04"): 100,
    }


def test_a_detractor_opens_a_complaint_and_nobody_else_does() -> None:
    case = case_for_detractor(answered(6), "case-1", date(2026, 3, 3))
    assert case is not None
    assert (case.kind, case.source, case.survey_id, case.provider_id) == (
        "complaint",
        "survey",
        "sv-1",
        "pr-1",
    )
    assert case.due_on == date(2026, 3, 10)
    assert case_for_detractor(answered(7), "case-2", date(2026, 3, 3)) is None
