"""The KeyVault port: where each patient's wrapped data key lives, and dies.

A data key is generated and wrapped by its user (shared.phivault); the vault only keeps the
wrapped bytes, one key per (tenant, subject). Destroying a key is for good: the key material is
gone from every file or document of the vault when `destroy` returns, and a tombstone stays so
that no new key, and so no new PHI, is ever made for that subject. Adapters: SQLite (embedded,
its own file) and MongoDB (scale-out, its own database).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted by the key-encryption key (AES-GCM): its nonce and ciphertext."""

    nonce: bytes
    key: bytes


class KeyVault(Protocol):
    """The wrapped data keys of every tenant's patients, in a store of their own."""

    async def get(self, tenant: str, subject: str) -> WrappedKey | None:
        """The subject's wrapped key; None when it has none, or had one that was destroyed."""
        ...

    async def create(self, tenant: str, subject: str, key: WrappedKey) -> WrappedKey | None:
        """Keep `key` as the subject's key unless it has one already (another writer's wins).

        Answers the key now kept for the subject, or None when the subject's key was destroyed:
        a tombstone refuses every new key.
        """
        ...

    async def destroy(self, tenant: str, subject: str) -> None:
        """Erase the subject's key for good and leave a tombstone (also when it had no key).

        When this returns, no file or document of the vault holds the key material any more.
        Destroying twice changes nothing. Raises StoreUnavailable when the erasure could not be
        finished yet (the tombstone is then in place): the caller retries.
        """
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable when the backend cannot be reached."""
        ...

    async def close(self) -> None: ...
