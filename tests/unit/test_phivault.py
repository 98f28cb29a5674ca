"""The PHI vault: sealing per patient, opening, and forgetting for good."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from shared.documents.sqlite import SqliteDocumentStore
from shared.phi import Sealed
from shared.phivault import REDACTED, PatientForgottenError, PhiVault
from shared.settings import Settings
from shared.sqlite import SqliteDatabase


@pytest.fixture
async def vault() -> AsyncIterator[PhiVault]:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    yield PhiVault(store, os.urandom(32))
    await store.close()


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
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    with pytest.raises(ValueError, match="32 bytes"):
        PhiVault(store, b"short")


def test_production_refuses_the_development_key_encryption_key() -> None:
    with pytest.raises(ValueError, match="MEDOFFICE_PHI_KEK"):
        Settings(env="production", jwt_secret="x" * 40, jwt_jwks="/keys.json")
