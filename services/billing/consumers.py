"""Billing's bus consumers and timers: what it does on its own, not asked over HTTP.

Charges: each completed visit (scheduling's `VisitCompleted`) becomes its charge, once
(`ChargeCompletedVisits`, consumer group `reactor.billing.charge_completed_visits`), dated
at its site, whose time zone billing learns from `SiteRegistered` (`LearnSiteZones`).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.billing.application.charges import (
    ChargeCompletedVisits,
    Charges,
    LearnSiteZones,
)
from shared.reactions import Reaction
from shared.timers import Timer


def reactions(charges: Charges) -> Sequence[Reaction]:
    return [ChargeCompletedVisits(charges), LearnSiteZones(charges)]


def timers() -> Sequence[Timer]:
    return []
