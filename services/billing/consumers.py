"""Billing's bus consumers and timers: what it does on its own, not asked over HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from services.billing.application.claims import Claims, MakeClaims
from services.billing.application.clearinghouse import (
    Clearinghouse,
    SendClaimFiles,
    TakeAcknowledgements,
)
from shared.reactions import Reaction
from shared.settings import Settings
from shared.timers import Timer


def reactions(claims: Claims) -> Sequence[Reaction]:
    return [
        MakeClaims(claims),  # claims (area 5): claims from released charges; secondary claims
    ]


def timers(settings: Settings, clearinghouse: Clearinghouse) -> Sequence[Timer]:
    every = settings.clearinghouse_poll_seconds
    return [
        SendClaimFiles(clearinghouse, every),  # clearinghouse (area 6): claim files out
        TakeAcknowledgements(clearinghouse, every),  # clearinghouse (area 6): 999/277CA back in
    ]
