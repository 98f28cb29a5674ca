"""Signed confirm and cancel links: what one was signed for comes back; a link changed in any
part, signed under another secret, malformed or expired is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.engagement.domain.links import LinkClaim, LinkRefused, sign, verify
from shared.domain import Invalid

SECRET = b"office-secret-0123456789abcdef"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=3)


def test_a_genuine_link_gives_back_its_claim() -> None:
    token = sign(SECRET, "ap-1", "cancel", EXPIRES)
    assert token.startswith(f"ap-1.cancel.{int(EXPIRES.timestamp())}.")
    assert verify(SECRET, token, NOW) == LinkClaim("ap-1", "cancel", EXPIRES)
    assert verify(SECRET, sign(SECRET, "ap-1", "confirm", EXPIRES), NOW).action == "confirm"


def test_a_link_is_refused_from_its_expiry() -> None:
    token = sign(SECRET, "ap-1", "confirm", EXPIRES)
    assert verify(SECRET, token, EXPIRES - timedelta(seconds=1)).appointment_id == "ap-1"
    with pytest.raises(LinkRefused, match="expired"):
        verify(SECRET, token, EXPIRES)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("confirm", "cancel"),  # another action, the same signature
        lambda t: t.replace("ap-1", "ap-2"),  # another appointment
        lambda t: t.replace(t.split(".")[2], str(int(t.split(".")[2]) + 86400)),  # longer life
        lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),  # the signature
        lambda t: t.rsplit(".", 1)[0],  # no signature
        lambda t: t + ".x",  # a part too many
        lambda t: "",
    ],
    ids=["action", "appointment", "expiry", "signature", "unsigned", "extra-part", "empty"],
)
def test_a_tampered_link_is_refused(tamper: Callable[[str], str]) -> None:
    token = sign(SECRET, "ap-1", "confirm", EXPIRES)
    with pytest.raises(LinkRefused, match="not one of ours"):
        verify(SECRET, tamper(token), NOW)


def test_a_link_signed_under_another_secret_is_refused() -> None:
    token = sign(b"another-office", "ap-1", "confirm", EXPIRES)
    with pytest.raises(LinkRefused):
        verify(SECRET, token, NOW)
    with pytest.raises(LinkRefused):
        verify(b"", token, NOW)


def test_an_unknown_action_signed_by_us_is_still_refused() -> None:
    """Only `confirm`, `cancel` and `survey` mean anything, even under the right signature."""
    token = sign(SECRET, "ap-1", "delete", EXPIRES)  # type: ignore[arg-type]
    with pytest.raises(LinkRefused):
        verify(SECRET, token, NOW)


def test_nothing_ambiguous_is_signed() -> None:
    with pytest.raises(Invalid):
        sign(SECRET, "ap.1", "confirm", EXPIRES)
    with pytest.raises(Invalid):
        sign(b"", "ap-1", "confirm", EXPIRES)
