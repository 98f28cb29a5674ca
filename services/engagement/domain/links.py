"""Signed confirm and cancel links: a patient who follows one issues the command the front desk
would; and survey links, to answer the survey about a completed visit. The token is
`<appointment>.<action>.<expiry>.<signature>`, the signature an HMAC-SHA256
over the first three under the office's secret, URL-safe base64 without padding. Verification
compares signatures in constant time and refuses a token past its expiry. The secret and the
time are inputs: nothing here reads a key store or a clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, cast, get_args

from shared.domain import Invalid

Action = Literal["confirm", "cancel", "survey"]
ACTIONS: tuple[str, ...] = get_args(Action)


class LinkRefused(Invalid):
    """A token that is malformed, tampered with, or expired."""


@dataclass(frozen=True)
class LinkClaim:
    appointment_id: str
    action: Action
    expires_at: datetime


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: bytes, appointment_id: str, action: Action, expires_at: datetime) -> str:
    if "." in appointment_id or not appointment_id:
        raise Invalid("an appointment id in a link has no dots and is not empty")
    if not secret:
        raise Invalid("a link needs a secret")
    payload = f"{appointment_id}.{action}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(secret, payload)}"


def verify(secret: bytes, token: str, now: datetime) -> LinkClaim:
    """The claim a genuine, unexpired token makes; `LinkRefused` otherwise (the same reason for
    any tampering, so a forger learns nothing)."""
    parts = token.split(".")
    if len(parts) != 4:
        raise LinkRefused("the link is not one of ours")
    appointment_id, action, expiry, signature = parts
    expected = _signature(secret, f"{appointment_id}.{action}.{expiry}")
    if not secret or not hmac.compare_digest(expected.encode(), signature.encode()):
        raise LinkRefused("the link is not one of ours")
    if action not in ACTIONS or not expiry.isdigit():
        raise LinkRefused("the link is not one of ours")
    expires_at = datetime.fromtimestamp(int(expiry), tz=UTC)
    if now >= expires_at:
        raise LinkRefused("the link has expired")
    return LinkClaim(appointment_id, cast(Action, action), expires_at)
