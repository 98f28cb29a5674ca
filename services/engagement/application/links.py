"""Signed links in patients' messages: made when a message is composed, followed over a public
route where the signed token is the only authority.

Each tenant's secret is derived from the suite's link key (`MEDOFFICE_LINK_KEY`; unset, from
the PHI key-encryption key under a label of its own), so a link of one tenant's means nothing
under another's address. A confirm or cancel link expires when the visit its message named
starts: the expiry is that start, which tells a link of an earlier message (before a move) from
a current one. A survey link lasts `SURVEY_LINK_DAYS` from the visit.

Messages carry the least PHI that works: a link names the tenant, the appointment's id and the
action, nothing about the patient or the visit.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from services.engagement.domain import streams
from services.engagement.domain.events import Purpose
from services.engagement.domain.link_answers import AnswerLink, LinkAnswers, answer_id, link_answers
from services.engagement.domain.links import Action, LinkClaim, LinkRefused, sign, verify
from services.engagement.projections.link_answers import ANSWERS, PROJECTION, answer_doc_id
from shared.commands import CommandHandler, Outcome
from shared.events import Metadata
from shared.readmodels import ReadModels
from shared.settings import Settings, key_bytes
from shared.usecases import UseCases

SURVEY_LINK_DAYS = 30
ANSWERABLE: frozenset[str] = frozenset(
    {"confirmation", "reminder_72h", "reminder_24h", "reschedule_notice"}
)
_DERIVED = b"medoffice engagement links v1"


class LinkSigner:
    """Signs and checks the links of one deployment, each tenant under a secret of its own."""

    def __init__(self, key: bytes, base_url: str) -> None:
        self._key = key
        self._base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkSigner:
        if settings.link_key is not None:
            key = key_bytes(settings.link_key)
        else:
            key = hmac.new(key_bytes(settings.phi_kek), _DERIVED, hashlib.sha256).digest()
        return cls(key, settings.engagement_link_base_url)

    def _secret(self, tenant: str) -> bytes:
        return hmac.new(self._key, tenant.encode(), hashlib.sha256).digest()

    def token(self, tenant: str, appointment_id: str, action: Action, expires_at: datetime) -> str:
        return sign(self._secret(tenant), appointment_id, action, expires_at)

    def claim(self, tenant: str, token: str, now: datetime, *actions: Action) -> LinkClaim:
        """What a genuine, unexpired token of the tenant's, for one of `actions`, claims."""
        claim = verify(self._secret(tenant), token, now)
        if claim.action not in actions:
            raise LinkRefused("the link is not one of ours")
        return claim

    def url(self, tenant: str, token: str, survey: bool = False) -> str:
        return f"{self._base_url}/engagement/{'surveys' if survey else 'links'}/{tenant}/{token}"

    def in_message(
        self, tenant: str, appointment_id: str, purpose: Purpose, start: datetime
    ) -> str:
        """The links a message about the visit at `start` carries, as text ("" for none)."""
        if purpose in ANSWERABLE:
            confirm = self.url(tenant, self.token(tenant, appointment_id, "confirm", start))
            cancel = self.url(tenant, self.token(tenant, appointment_id, "cancel", start))
            return f"Confirm: {confirm} Cancel: {cancel}"
        if purpose == "survey":
            until = start + timedelta(days=SURVEY_LINK_DAYS)
            token = self.token(tenant, appointment_id, "survey", until)
            return f"Tell us how it went: {self.url(tenant, token, survey=True)}"
        return ""


def actor(appointment_id: str) -> str:
    return f"patient-link:{appointment_id}"


class PatientLinkAnswers(UseCases):
    """A patient's answers through confirm and cancel links (`domain/link_answers.py`)."""

    def __init__(
        self, handler: CommandHandler, signer: LinkSigner, read_models: ReadModels
    ) -> None:
        super().__init__(handler)
        self._signer = signer
        self._read_models = read_models

    async def answer(
        self, tenant: str, token: str, correlation_id: str
    ) -> tuple[str, Outcome[LinkAnswers]]:
        """The answer's id and where the appointment's stream stands after it."""
        claim = self._signer.claim(tenant, token, self.now(), "confirm", "cancel")
        meta = Metadata(
            tenant=tenant, actor=actor(claim.appointment_id), correlation_id=correlation_id
        )
        action = "confirm" if claim.action == "confirm" else "cancel"
        command = AnswerLink(
            answer_id=answer_id(claim.appointment_id, action, claim.expires_at),
            appointment_id=claim.appointment_id,
            action=action,
            appointment_start=claim.expires_at,
            now=self.now(),
        )
        stream = streams.appointment(tenant, claim.appointment_id)
        outcome = await self.decide(stream, link_answers, command, meta, subject=_patient)
        return command.answer_id, outcome

    async def outcome(self, tenant: str, token: str) -> dict[str, Any]:
        """What became of the link's answer: `unanswered`; `pending` (scheduling has not
        carried it out yet); `confirmed` or `cancelled`; or `refused`, with scheduling's
        reason. From a read model, which catches up with scheduling's outcome."""
        claim = self._signer.claim(tenant, token, self.now(), "confirm", "cancel")
        answer = answer_id(claim.appointment_id, claim.action, claim.expires_at)
        doc = await self._read_models.get(PROJECTION, ANSWERS, answer_doc_id(tenant, answer))
        status = "unanswered"
        if doc is not None:
            status = doc.get("outcome") or ("pending" if doc.get("answered_at") else "unanswered")
        return {
            "answer_id": answer,
            "appointment_id": claim.appointment_id,
            "action": claim.action,
            "appointment_start": claim.expires_at.isoformat(),
            "status": status,
            "reason": (doc or {}).get("reason"),
        }


def _patient(event: object) -> str | None:
    return getattr(event, "patient_id", None)
