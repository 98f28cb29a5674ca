"""Staffing's bus consumers and timers: what it does on its own, not asked over HTTP.

Training: an employee hired, or changing job, is assigned the courses their role requires
(`AssignRequiredCourses`, consumer group `reactor.staffing.assign_required_training`).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.staffing.application.training import AssignRequiredCourses, Training
from shared.reactions import Reaction
from shared.timers import Timer


def reactions(training: Training) -> Sequence[Reaction]:
    return [AssignRequiredCourses(training)]


def timers() -> Sequence[Timer]:
    return []
