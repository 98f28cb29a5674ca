"""Staffing's bus consumers and timers: what it does on its own, not asked over HTTP.

The credential sweep records the expiry reminders due each day (`application/credentials.py`);
this module declares which ones run.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.staffing.application.credentials import Credentials, CredentialSweepTimer
from shared.reactions import Reaction
from shared.settings import Settings
from shared.timers import Timer


def reactions() -> Sequence[Reaction]:
    return []


def timers(settings: Settings, credentials: Credentials) -> Sequence[Timer]:
    return [CredentialSweepTimer(credentials, settings.credential_sweep_seconds)]
