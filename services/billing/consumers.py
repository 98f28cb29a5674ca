"""Billing's bus consumers and timers: what it does on its own, not asked over HTTP.

Charges: each completed visit (scheduling's `VisitCompleted`) becomes its charge, once
(`ChargeCompletedVisits`, consumer group `reactor.billing.charge_completed_visits`).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.billing.application.charges import ChargeCompletedVisits, Charges
from shared.reactions import Reaction
from shared.timers import Timer


def reactions(charges: Charges) -> Sequence[Reaction]:
    return [ChargeCompletedVisits(charges)]


def timers() -> Sequence[Timer]:
    return []
