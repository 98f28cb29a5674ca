"""Forgetting a patient erases their data key from every file before it answers.

Embedded backend, the suite still running: the wrapped key is read from the key vault's file,
the patient is forgotten, and then every file under the data directory (databases, their WAL
and shared-memory files, anything) is read as raw bytes. Neither the wrapped key (raw or
base64) nor the patient's name is in any of them, and someone holding the key-encryption key
and every file cannot open the name sealed in the event store.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.scheduling.domain.streams import patient
from services.suite import Suite
from shared.documents.port import Write
from shared.documents.sqlite import SqliteDocumentStore
from shared.eventstore.sqlite import SqliteEventStore
from shared.keyvault.sqlite import SqliteKeyVault
from shared.phi import Sealed
from shared.phivault import LEGACY_KEYS, REDACTED, PatientForgottenError, PhiVault
from shared.settings import Settings
from shared.sqlite import SqliteDatabase
from tests.api.conftest import post_ok, running_suite
from tests.support import suite_settings, wait_until

NAME = "Philippa Oyelaran-Strand"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def every_file(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def holding(files: dict[Path, bytes], *needles: bytes) -> list[str]:
    return [p.name for p, data in files.items() if any(n in data for n in needles)]


def wrapped_key(data_dir: Path, tenant: str, subject: str) -> bytes:
    """The wrapped data key as the key vault's file holds it (read with a connection of
    our own, closed at once: it must not hold the WAL)."""
    conn = sqlite3.connect(f"file:{data_dir / 'keyvault' / 'keys.db'}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT wrapped FROM data_keys WHERE tenant = ? AND subject = ?", (tenant, subject)
        ).fetchone()
    finally:
        conn.close()
    assert row is not None, "the patient has a key in the vault"
    assert row[0], "the patient's key is not destroyed"
    key: bytes = row[0]
    return key


async def sealed_name(data_dir: Path, tenant: str, subject: str) -> Sealed:
    store = SqliteEventStore(SqliteDatabase(data_dir / "scheduling" / "events.db"))
    try:
        [registered] = await store.load(patient(tenant, subject), limit=1)
    finally:
        await store.close()
    return Sealed.model_validate(registered.data["name"])


@pytest.mark.parametrize("settings", ["embedded"], indirect=True)
async def test_a_forgotten_patients_key_is_in_no_file_when_forget_answers(
    client: httpx.AsyncClient, suite: Suite, settings: Settings
) -> None:
    data_dir = Path(settings.data_dir)
    body = {"patient_id": "pat-po", "name": NAME, "birth_date": "1979-05-14"}
    await post_ok(client, "/scheduling/patients", body)

    async def shown() -> str | None:
        response = await client.get("/scheduling/patients/pat-po")
        name: str | None = response.json().get("name") if response.status_code == 200 else None
        return name

    assert await wait_until(shown, message="the patient's record") == NAME
    key = wrapped_key(data_dir, "acme", "pat-po")
    needles = (key, base64.b64encode(key), NAME.encode(), b"Oyelaran")
    assert holding(every_file(data_dir), *needles[:2]), "the scan sees the key before forget"
    sealed = await sealed_name(data_dir, "acme", "pat-po")

    forgotten = await client.post("/scheduling/patients/pat-po/forget", json={"reason": "erasure"})
    assert forgotten.status_code == 200, forgotten.text

    files = every_file(data_dir)  # at once: the suite is still running
    assert any(p.name.endswith("-wal") for p in files), "the scan covers the WAL files"
    assert holding(files, *needles) == []
    # With the key-encryption key and every file, the name stays sealed.
    kek = base64.b64decode(settings.phi_kek)
    keys = SqliteKeyVault(SqliteDatabase(data_dir / "keyvault" / "keys.db"))
    try:
        assert await PhiVault(keys, kek).reveal("acme", sealed) == REDACTED
    finally:
        await keys.close()
    assert await shown() == REDACTED


async def test_keys_kept_by_an_earlier_version_still_open_and_leave_the_read_models(
    tmp_path: Path,
) -> None:
    """Before the key vault, data keys were documents of scheduling's read models: a start
    moves them into the vault and erases them there (from the pages and the WAL)."""
    settings = suite_settings(tmp_path)
    kek = base64.b64decode(settings.phi_kek)
    data_key = AESGCM.generate_key(bit_length=256)
    wrap_nonce, nonce = os.urandom(12), os.urandom(12)
    wrapped = AESGCM(kek).encrypt(wrap_nonce, data_key, None)
    ct = AESGCM(data_key).encrypt(nonce, NAME.encode(), b"acme\x00pat-old")
    sealed = Sealed(subject="pat-old", nonce=b64(nonce), ct=b64(ct))
    legacy = SqliteDocumentStore(SqliteDatabase(tmp_path / "scheduling" / "readmodels.db"))
    try:
        docs = [
            Write(doc_id="acme:pat-old", doc={"nonce": b64(wrap_nonce), "key": b64(wrapped)}),
            Write(doc_id="acme:pat-gone", doc={"forgotten": True}),
        ]
        assert await legacy.write(LEGACY_KEYS, docs) == []
    finally:
        await legacy.close()
    needles = (wrapped, base64.b64encode(wrapped))
    assert holding(every_file(tmp_path), *needles) == ["readmodels.db"]

    async with running_suite(settings):
        files = every_file(tmp_path)
        # The vault's file (or its WAL) has it now, and nothing else does.
        assert {name.removesuffix("-wal") for name in holding(files, *needles)} == {"keys.db"}
        keys = SqliteKeyVault(SqliteDatabase(tmp_path / "keyvault" / "keys.db"))
        try:
            vault = PhiVault(keys, kek)
            assert await vault.reveal("acme", sealed) == NAME
            with pytest.raises(PatientForgottenError):
                await vault.seal("acme", "pat-gone", "new notes")
        finally:
            await keys.close()
