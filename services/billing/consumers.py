"""Billing's bus consumers and timers: what it does on its own, not asked over HTTP.

Reactors (each its own consumer group, `reactor.<name>`): billing learns patients and their
coverages from scheduling's topic, rendering providers and their enrolments from staffing's.
The reactions are use cases (`application/learning.py`); this module declares which run.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.billing.application.learning import (
    LearnFromScheduling,
    LearnFromStaffing,
    Learning,
)
from shared.reactions import Reaction
from shared.timers import Timer


def reactions(learning: Learning) -> Sequence[Reaction]:
    return [LearnFromScheduling(learning), LearnFromStaffing(learning)]


def timers() -> Sequence[Timer]:
    return []
