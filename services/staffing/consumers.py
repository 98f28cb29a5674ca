"""Staffing's bus consumers and timers: what it does on its own, not asked over HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from services.staffing.application.time_off import PtoAccrualTimer, TimeOff
from shared.reactions import Reaction
from shared.readmodels import ReadModels
from shared.settings import Settings
from shared.timers import Timer


def reactions() -> Sequence[Reaction]:
    return []


def timers(settings: Settings, time_off: TimeOff, read_models: ReadModels) -> Sequence[Timer]:
    return [PtoAccrualTimer(time_off, read_models, settings.pto_accrual_timer_seconds)]
