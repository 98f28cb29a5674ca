"""A verified token is not checked again for a minute, and never admitted past its expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import HTTPException

from shared.http import identity
from shared.http.identity import TokenVerifier, mint_token
from shared.settings import Settings

SETTINGS = Settings(env="test", jwt_secret="s" * 40)
NOW = 1_800_000_000.0  # a fixed moment for time.time(); tokens are minted around it


def token(lifetime_seconds: int = 900, sub: str = "frontdesk") -> str:
    minted_at = datetime.fromtimestamp(NOW, UTC)
    return mint_token(
        SETTINGS.jwt_secret,
        issuer=SETTINGS.jwt_issuer,
        subject=sub,
        tenant="acme",
        roles=["admin"],
        sites=None,
        now=minted_at,
        lifetime=timedelta(seconds=lifetime_seconds),
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.time() as the verifier and PyJWT read it, moved by the test."""
    moment = [NOW]
    monkeypatch.setattr(time, "time", lambda: moment[0])
    monkeypatch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime(moment))
    return moment


class _FrozenDatetime:
    def __init__(self, moment: list[float]) -> None:
        self._moment = moment

    def now(self, tz: object = None) -> datetime:
        return datetime.fromtimestamp(self._moment[0], UTC)

    def __getattr__(self, name: str) -> object:
        return getattr(datetime, name)


def counting_decode(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = jwt.decode

    def decode(token: str, *args: object, **kwargs: object) -> object:
        calls.append(token)
        return real(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", decode)
    return calls


def test_a_token_is_checked_once_a_minute(
    monkeypatch: pytest.MonkeyPatch, clock: list[float]
) -> None:
    verifier = TokenVerifier(SETTINGS)
    calls = counting_decode(monkeypatch)
    bearer = token()
    for _ in range(5):
        assert verifier.verify(bearer).sub == "frontdesk"
    assert len(calls) == 1
    clock[0] = NOW + identity.VERIFIED_FOR + 1
    assert verifier.verify(bearer).sub == "frontdesk"
    assert len(calls) == 2


def test_a_kept_token_is_refused_once_it_expires(clock: list[float]) -> None:
    verifier = TokenVerifier(SETTINGS)
    bearer = token(lifetime_seconds=30)
    assert verifier.verify(bearer).sub == "frontdesk"
    clock[0] = NOW + 31
    with pytest.raises(HTTPException) as refused:
        verifier.verify(bearer)
    assert refused.value.status_code == 401


def test_a_bad_token_is_never_kept(monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> None:
    verifier = TokenVerifier(SETTINGS)
    forged = token()[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(HTTPException):
            verifier.verify(forged)


def test_the_kept_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> None:
    monkeypatch.setattr(identity, "VERIFIED_TOKENS", 3)
    verifier = TokenVerifier(SETTINGS)
    calls = counting_decode(monkeypatch)
    bearers = [token(sub=f"user-{n}") for n in range(4)]
    for bearer in bearers:
        verifier.verify(bearer)
    verifier.verify(bearers[3])  # the newest is kept
    assert len(calls) == 4
    verifier.verify(bearers[0])  # the oldest was let go: checked again
    assert len(calls) == 5
