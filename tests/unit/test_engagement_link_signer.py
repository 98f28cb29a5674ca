"""The links a message carries: a confirm and a cancel link in a confirmation, reminder or
reschedule notice (expiring at the visit's start), a survey link in a survey (30 days), none
in a cancellation notice; each tenant under a secret of its own, derived from the link key (or,
unset, from the PHI key-encryption key); a token for one purpose refused for another."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from services.engagement.application.links import LinkSigner
from services.engagement.domain.links import LinkRefused
from shared.settings import Settings

START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
NOW = START - timedelta(days=2)
TOKEN = re.compile(r"https://clinic\.example/engagement/(links|surveys)/acme/(\S+)")


def signer(**settings: str) -> LinkSigner:
    return LinkSigner.from_settings(
        Settings(engagement_link_base_url="https://clinic.example/", **settings)  # type: ignore[arg-type]
    )


def test_each_message_carries_the_links_its_purpose_needs() -> None:
    links = signer()
    text = links.in_message("acme", "ap-1", "reminder_24h", START)
    found = TOKEN.findall(text)
    assert text.startswith("Confirm: https://clinic.example/engagement/links/acme/ap-1.confirm.")
    assert [kind for kind, _ in found] == ["links", "links"]
    confirm, cancel = (links.claim("acme", token, NOW, "confirm", "cancel") for _, token in found)
    assert (confirm.action, cancel.action) == ("confirm", "cancel")
    assert confirm.expires_at == START
    [(kind, token)] = TOKEN.findall(links.in_message("acme", "ap-1", "survey", START))
    assert kind == "surveys"
    assert links.claim("acme", token, START, "survey").expires_at == START + timedelta(days=30)
    with pytest.raises(LinkRefused):
        links.claim("acme", token, START, "confirm", "cancel")
    assert links.in_message("acme", "ap-1", "cancellation_notice", START) == ""


def test_each_tenant_and_key_signs_apart() -> None:
    derived = signer()
    token = derived.token("acme", "ap-1", "confirm", START)
    with pytest.raises(LinkRefused):
        derived.claim("globex", token, NOW, "confirm")
    own_key = signer(link_key=base64.b64encode(bytes(range(32))).decode())
    with pytest.raises(LinkRefused):
        own_key.claim("acme", token, NOW, "confirm")
    assert own_key.claim("acme", own_key.token("acme", "ap-1", "confirm", START), NOW, "confirm")
    with pytest.raises(ValueError, match="link_key"):
        Settings(link_key="short")


def test_production_refuses_links_to_an_address_patients_cannot_reach() -> None:
    """Production demands the https address patients' links go to: the development default
    (loopback) would send every patient a dead link."""
    kek = base64.b64encode(bytes(range(32))).decode()
    keys = {"env": "production", "jwt_secret": "x" * 40, "jwt_jwks": "/keys.json"}
    keys |= {"phi_kek": kek, "ledger_key": kek}
    for address in ("http://127.0.0.1:8000", "http://clinic.example"):
        with pytest.raises(ValueError, match="MEDOFFICE_ENGAGEMENT_LINK_BASE_URL"):
            Settings.model_validate(keys | {"engagement_link_base_url": address})
    production = Settings.model_validate(
        keys | {"engagement_link_base_url": "https://clinic.example"}
    )
    assert production.engagement_link_base_url == "https://clinic.example"


def test_production_refuses_an_smtp_relay_without_starttls() -> None:
    """Patients' addresses and visit times must not cross the network in the clear."""
    kek = base64.b64encode(bytes(range(32))).decode()
    keys = {"env": "production", "jwt_secret": "x" * 40, "jwt_jwks": "/keys.json"}
    keys |= {"phi_kek": kek, "ledger_key": kek, "engagement_link_base_url": "https://c.example"}
    relay = keys | {"engagement_smtp_host": "smtp.example"}
    with pytest.raises(ValueError, match="MEDOFFICE_ENGAGEMENT_SMTP_STARTTLS"):
        Settings.model_validate(relay)
    assert Settings.model_validate(
        relay | {"engagement_smtp_starttls": True}
    ).engagement_smtp_starttls
