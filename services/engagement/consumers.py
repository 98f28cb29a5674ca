"""Engagement's bus consumers: what it does on its own, not asked over HTTP.

Each booking, move, cancellation and withdrawal scheduling publishes plans or stops the
appointment's messages (`PlanAppointmentMessages`, consumer group
`reactor.engagement.plan_messages`). A completed visit plans its survey
(`reactor.engagement.surveys`), and a detractor's answer opens a feedback case
(`reactor.engagement.detractor_cases`, on engagement's own topic). The sites' names and time
zones are learnt as engagement's own events (`application/sites.py`,
`reactor.engagement.learn_sites`). The delivery timer sends each message
due through its channel (`application/delivery.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.engagement.application.delivery import Delivery, DeliveryTimer
from services.engagement.application.messages import AppointmentMessagesUseCases
from services.engagement.application.scheduling import PlanAppointmentMessages
from services.engagement.application.surveys import OpenDetractorCases, PlanSurveys, Surveys
from shared.reactions import Reaction
from shared.settings import Settings
from shared.timers import Timer


def reactions(messages: AppointmentMessagesUseCases, surveys: Surveys) -> Sequence[Reaction]:
    return [PlanAppointmentMessages(messages), PlanSurveys(surveys), OpenDetractorCases(surveys)]


def timers(settings: Settings, delivery: Delivery) -> Sequence[Timer]:
    return [DeliveryTimer(delivery, settings.engagement_delivery_seconds)]
