"""The PHI vault: sealing per patient, opening, and forgetting for good."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.documents.port import Write
from shared.documents.sqlite import SqliteDocumentStore
from shared.keyvault.sqlite import SqliteKeyVault
from shared.phi import Sealed
from shared.phivault import (
    LEGACY_KEYS,
    REDACTED,
    PatientForgottenError,
    PhiVault,
    adopt_legacy_keys,
)
from shared.settings import Settings
from shared.sqlite import SqliteDatabase


@pytest.fixture
async def vault() -> AsyncIterator[PhiVault]:
    keys = SqliteKeyVault(SqliteDatabase(":memory:"))
    yield PhiVault(keys, os.urandom(32))
    await keys.close()


async def test_sealed_phi_opens_for_its_tenant_and_patient(vault: PhiVault) -> None:
    sealed = await vault.seal("acme", "pat-1", "Ada Lovelace")
    assert "Ada" not in sealed.model_dump_json()
    assert await vault.reveal("acme", sealed) == "Ada Lovelace"
    assert await vault.reveal("acme", sealed.model_dump()) == "Ada Lovelace"
    assert await vault.reveal("globex", sealed) == REDACTED  # bound to its tenant


async def test_a_tampered_value_reads_as_redacted(vault: PhiVault) -> None:
    sealed = await vault.seal("acme", "pat-1", "Ada Lovelace")
    other = await vault.seal("acme", "pat-2", "Grace Hopper")
    swapped = Sealed(subject="pat-1", nonce=other.nonce, ct=other.ct)
    assert await vault.reveal("acme", swapped) == REDACTED
    assert await vault.reveal("acme", sealed) == "Ada Lovelace"


async def test_forgetting_a_patient_redacts_their_phi_and_refuses_more(vault: PhiVault) -> None:
    sealed = await vault.seal("acme", "pat-1", "Ada Lovelace")
    kept = await vault.seal("acme", "pat-2", "Grace Hopper")

    await vault.forget("acme", "pat-1")

    assert await vault.reveal("acme", sealed) == REDACTED
    assert await vault.reveal("acme", kept) == "Grace Hopper"
    with pytest.raises(PatientForgottenError):
        await vault.seal("acme", "pat-1", "new notes")


def test_the_key_encryption_key_must_be_32_bytes() -> None:
    keys = SqliteKeyVault(SqliteDatabase(":memory:"))
    with pytest.raises(ValueError, match="32 bytes"):
        PhiVault(keys, b"short")


def test_production_refuses_the_development_key_encryption_key() -> None:
    with pytest.raises(ValueError, match="MEDOFFICE_PHI_KEK"):
        Settings(env="production", jwt_secret="x" * 40, jwt_jwks="/keys.json")


async def test_keys_kept_by_an_earlier_version_move_into_the_vault() -> None:
    """Data keys once kept as `_phi_keys` documents open after the move, tombstones still
    refuse new PHI, and the documents are gone."""
    kek = os.urandom(32)
    documents = SqliteDocumentStore(SqliteDatabase(":memory:"))
    keys = SqliteKeyVault(SqliteDatabase(":memory:"))
    try:
        data_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce, nonce = os.urandom(12), os.urandom(12)
        wrapped = AESGCM(kek).encrypt(wrap_nonce, data_key, None)
        ct = AESGCM(data_key).encrypt(nonce, b"Ada Lovelace", b"acme\x00pat-1")
        sealed = Sealed(subject="pat-1", nonce=b64(nonce), ct=b64(ct))
        legacy = [
            Write(doc_id="acme:pat-1", doc={"nonce": b64(wrap_nonce), "key": b64(wrapped)}),
            Write(doc_id="acme:pat-2", doc={"forgotten": True}),
        ]
        assert await documents.write(LEGACY_KEYS, legacy) == []

        assert await adopt_legacy_keys(documents, keys) == 2
        assert await adopt_legacy_keys(documents, keys) == 0

        vault = PhiVault(keys, kek)
        assert await vault.reveal("acme", sealed) == "Ada Lovelace"
        with pytest.raises(PatientForgottenError):
            await vault.seal("acme", "pat-2", "new notes")
        assert await documents.find(LEGACY_KEYS) == []
    finally:
        await documents.close()
        await keys.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
