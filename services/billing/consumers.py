"""Billing's bus consumers and timers: what it does on its own, not asked over HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from services.billing.application.claims import Claims, MakeClaims
from shared.reactions import Reaction
from shared.timers import Timer


def reactions(claims: Claims) -> Sequence[Reaction]:
    return [
        MakeClaims(claims),  # claims (area 5): claims from released charges; secondary claims
    ]


def timers() -> Sequence[Timer]:
    return []
