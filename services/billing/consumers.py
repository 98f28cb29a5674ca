"""Billing's bus consumers and timers: what it does on its own, not asked over HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from shared.reactions import Reaction
from shared.timers import Timer


def reactions() -> Sequence[Reaction]:
    return []


def timers() -> Sequence[Timer]:
    return []
