"""Per-patient data keys: PHI sealed before it is stored, destroyed when a patient is forgotten.

Data keys are wrapped by the key-encryption key from settings and kept in the key vault (the
KeyVault port, shared.keyvault: a database of its own). Events are sealed before they are
stored, so the event store, the bus and every read model hold only ciphertext; the API opens
PHI for the callers it answers. Forgetting a patient erases the wrapped key and leaves a
tombstone: every copy of their PHI, backups and replays included, then reads back as redacted.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.documents.port import DocumentStore, Write
from shared.domain import Rejected
from shared.events import DomainEvent
from shared.keyvault import KeyVault, WrappedKey
from shared.phi import PhiEvent, Sealed, phi_fields

REDACTED = "[redacted]"
LEGACY_KEYS = "_phi_keys"  # where data keys were kept before the key vault: adopt_legacy_keys


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


class PhiVault:
    """Per-patient data keys of one service, wrapped by the key-encryption key."""

    def __init__(self, keys: KeyVault, kek: bytes) -> None:
        if len(kek) != 32:
            raise ValueError("the PHI key-encryption key must be 32 bytes")
        self._keys = keys
        # No key cache: another process may forget a patient at any moment, and a cached key
        # would go on opening their PHI.
        self._kek = AESGCM(kek)
        self._forgotten: list[Callable[[str, str], object]] = []

    def on_forget(self, listener: Callable[[str, str], object]) -> None:
        """Call `listener(tenant, subject)` once a patient's key is destroyed here (what this
        process keeps of their sealed PHI is dropped: see shared.commands)."""
        self._forgotten.append(listener)

    async def seal(self, tenant: str, subject: str, plaintext: str) -> Sealed:
        key = await self._key(tenant, subject, create=True)
        if key is None:
            raise PatientForgottenError(subject)
        nonce = os.urandom(12)
        ct = AESGCM(key).encrypt(nonce, plaintext.encode(), _aad(tenant, subject))
        return Sealed(subject=subject, nonce=_b64(nonce), ct=_b64(ct))

    async def reveal(self, tenant: str, value: str | Sealed | dict[str, Any]) -> str:
        """The plaintext, or REDACTED when the patient was forgotten."""
        if isinstance(value, str):
            return value
        sealed = value if isinstance(value, Sealed) else Sealed.model_validate(value)
        key = await self._key(tenant, sealed.subject, create=False)
        if key is None:
            return REDACTED
        try:
            plain = AESGCM(key).decrypt(
                _unb64(sealed.nonce), _unb64(sealed.ct), _aad(tenant, sealed.subject)
            )
        except InvalidTag:
            return REDACTED
        return plain.decode()

    async def seal_event(self, event: DomainEvent, tenant: str) -> DomainEvent:
        """The event with its PHI fields sealed (events without PHI come back as they are)."""
        if not isinstance(event, PhiEvent):
            return event
        subject = getattr(event, event.phi_subject)
        if subject is None:
            return event
        changes: dict[str, Any] = {}
        for name in phi_fields(type(event)):
            value = getattr(event, name)
            if isinstance(value, str):
                changes[name] = await self.seal(tenant, subject, value)
        return event.model_copy(update=changes) if changes else event

    async def reveal_fields(self, tenant: str, doc: dict[str, Any], *names: str) -> None:
        """Open the named PHI fields of a read-model document in place."""
        for name in names:
            value = doc.get(name)
            if isinstance(value, dict) and value.get("phi") == 1:
                doc[name] = await self.reveal(tenant, value)

    async def forget(self, tenant: str, subject: str) -> None:
        """Destroy the patient's data key for good; their PHI reads back redacted."""
        await self._keys.destroy(tenant, subject)
        for listener in self._forgotten:
            listener(tenant, subject)

    async def _key(self, tenant: str, subject: str, *, create: bool) -> bytes | None:
        wrapped = await self._keys.get(tenant, subject)
        if wrapped is None and create:
            nonce = os.urandom(12)
            fresh = AESGCM.generate_key(bit_length=256)
            made = WrappedKey(nonce=nonce, key=self._kek.encrypt(nonce, fresh, None))
            wrapped = await self._keys.create(tenant, subject, made)  # None: forgotten
        if wrapped is None:
            return None
        key: bytes = self._kek.decrypt(wrapped.nonce, wrapped.key, None)
        return key


async def adopt_legacy_keys(documents: DocumentStore, keys: KeyVault) -> int:
    """Move the data keys an earlier version kept in a service's document store into the vault.

    Keys and tombstones both move; each is then deleted from the document store. Answers how
    many moved: when any did, the caller also erases what the document store's files keep of
    deleted documents. Safe to run again after a crash: a key already in the vault stays.
    """
    moved = 0
    while batch := await documents.find(LEGACY_KEYS, limit=500):
        for doc in batch:
            tenant, _, subject = str(doc["_id"]).partition(":")
            if doc.get("forgotten"):
                await keys.destroy(tenant, subject)
            else:
                wrapped = WrappedKey(nonce=_unb64(doc["nonce"]), key=_unb64(doc["key"]))
                await keys.create(tenant, subject, wrapped)
        await documents.write(LEGACY_KEYS, [Write(doc_id=d["_id"], doc=None) for d in batch])
        moved += len(batch)
    if moved:
        await documents.drop(LEGACY_KEYS)
    return moved


class PatientForgottenError(Rejected):
    """No new PHI may be recorded for a forgotten patient (HTTP 409)."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"patient {subject} was forgotten")


def _aad(tenant: str, subject: str) -> bytes:
    return f"{tenant}\x00{subject}".encode()
