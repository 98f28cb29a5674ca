"""Staffing's bus consumers and timers: what it does on its own, not asked over HTTP.

The credential sweep records the expiry reminders due each day (`application/credentials.py`).
Training: an employee hired, or changing job, is assigned the courses their role requires
(`AssignRequiredCourses`, consumer group `reactor.staffing.assign_required_training`).
PTO: each pay period's accrual is recorded once per employee (`PtoAccrualTimer`).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.staffing.application.credentials import Credentials, CredentialSweepTimer
from services.staffing.application.time_off import PtoAccrualTimer, TimeOff
from services.staffing.application.training import AssignRequiredCourses, Training
from shared.reactions import Reaction
from shared.readmodels import ReadModels
from shared.settings import Settings
from shared.timers import Timer


def reactions(training: Training) -> Sequence[Reaction]:
    return [AssignRequiredCourses(training)]


def timers(
    settings: Settings, credentials: Credentials, time_off: TimeOff, read_models: ReadModels
) -> Sequence[Timer]:
    return [
        CredentialSweepTimer(credentials, settings.credential_sweep_seconds),
        PtoAccrualTimer(time_off, read_models, settings.pto_accrual_timer_seconds),
    ]
