"""The KeyVault contract: every adapter (SQLite, MongoDB/FerretDB) must pass all of it.

And the embedded adapter's promise about its files: a destroyed key is in none of them when
`destroy` returns, however many keys share its pages, and a reader that holds the WAL back
makes `destroy` answer "retry" rather than return with the key still on disk.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.eventstore.port import StoreUnavailable
from shared.keyvault import KeyVault, WrappedKey
from shared.keyvault.mongo import open_mongo_key_vault
from shared.keyvault.sqlite import SqliteKeyVault
from shared.sqlite import SqliteDatabase
from tests.contract.conftest import BACKENDS, MONGO_OPTIONS, Stores, on_each_backend


def fresh() -> WrappedKey:
    return WrappedKey(nonce=os.urandom(12), key=os.urandom(48))


@pytest.fixture(params=BACKENDS)
async def key_vaults(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[Stores[KeyVault]]:
    async def sqlite() -> KeyVault:
        return SqliteKeyVault(SqliteDatabase(tmp_path / "keys.db"))

    async def mongo(url: str, database: str) -> KeyVault:
        return await open_mongo_key_vault(url, database, **MONGO_OPTIONS)

    async for stores in on_each_backend(request, unique, sqlite, mongo):
        yield stores


@pytest.fixture
async def vault(key_vaults: Stores[KeyVault]) -> KeyVault:
    return await key_vaults.open()


async def test_a_subject_without_a_key_has_none(vault: KeyVault) -> None:
    assert await vault.get("acme", "pat-1") is None


async def test_the_first_key_created_stands(vault: KeyVault) -> None:
    first, second = fresh(), fresh()
    assert await vault.create("acme", "pat-1", first) == first
    assert await vault.create("acme", "pat-1", second) == first
    assert await vault.get("acme", "pat-1") == first


async def test_concurrent_creates_agree_on_one_key(vault: KeyVault) -> None:
    offered = [fresh() for _ in range(8)]
    kept = await asyncio.gather(*(vault.create("acme", "pat-1", k) for k in offered))
    assert len(set(kept)) == 1
    assert kept[0] in offered
    assert await vault.get("acme", "pat-1") == kept[0]


async def test_keys_belong_to_their_tenant_and_subject(vault: KeyVault) -> None:
    a, b, c = fresh(), fresh(), fresh()
    await vault.create("acme", "pat-1", a)
    await vault.create("globex", "pat-1", b)
    await vault.create("acme", "pat-2", c)
    await vault.destroy("acme", "pat-1")
    assert await vault.get("acme", "pat-1") is None
    assert await vault.get("globex", "pat-1") == b
    assert await vault.get("acme", "pat-2") == c


async def test_a_destroyed_key_is_gone_and_no_new_key_is_made(vault: KeyVault) -> None:
    await vault.create("acme", "pat-1", fresh())
    await vault.destroy("acme", "pat-1")
    await vault.destroy("acme", "pat-1")  # twice changes nothing
    assert await vault.get("acme", "pat-1") is None
    assert await vault.create("acme", "pat-1", fresh()) is None
    assert await vault.get("acme", "pat-1") is None


async def test_a_subject_destroyed_before_any_key_gets_none(vault: KeyVault) -> None:
    await vault.destroy("acme", "pat-9")
    assert await vault.create("acme", "pat-9", fresh()) is None


async def test_keys_and_tombstones_survive_a_reopen(key_vaults: Stores[KeyVault]) -> None:
    vault = await key_vaults.open()
    kept = fresh()
    await vault.create("acme", "pat-1", kept)
    await vault.create("acme", "pat-2", fresh())
    await vault.destroy("acme", "pat-2")
    vault = await key_vaults.reopen(vault)
    assert await vault.get("acme", "pat-1") == kept
    assert await vault.create("acme", "pat-2", fresh()) is None


async def test_ping_answers_while_the_vault_is_reachable(vault: KeyVault) -> None:
    await vault.ping()


# The embedded adapter's files.


def _needles(key: WrappedKey) -> list[bytes]:
    return [key.key, base64.b64encode(key.key), key.key[:16], base64.b64encode(key.key[:15])]


def _everything(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


async def test_a_destroyed_key_is_in_no_file_of_the_embedded_vault(tmp_path: Path) -> None:
    vault = SqliteKeyVault(SqliteDatabase(tmp_path / "vault" / "keys.db"))
    try:
        # Enough keys for many pages and splits: a key's bytes may have moved between pages.
        keys = {f"pat-{n}": fresh() for n in range(600)}
        for subject, key in keys.items():
            await vault.create("acme", subject, key)
        doomed = [f"pat-{n}" for n in (0, 1, 299, 300, 599)]
        assert all(n in _everything(tmp_path) for s in doomed for n in _needles(keys[s])[:1])
        for subject in doomed:
            await vault.destroy("acme", subject)
        # The vault is still open: this is its files as they are while it serves.
        stored = _everything(tmp_path)
        assert not [s for s in doomed for n in _needles(keys[s]) if n in stored]
        assert keys["pat-2"].key in stored  # the scan does see the keys that were kept
        assert await vault.get("acme", "pat-2") == keys["pat-2"]
    finally:
        await vault.close()


async def test_a_reader_holding_the_wal_makes_destroy_answer_retry(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    vault = SqliteKeyVault(SqliteDatabase(path))
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        key = fresh()
        await vault.create("acme", "pat-1", key)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM data_keys").fetchone() == (1,)
        with pytest.raises(StoreUnavailable, match="a reader holds the WAL"):
            await vault.destroy("acme", "pat-1")
        assert await vault.get("acme", "pat-1") is None  # the tombstone is in place already
        reader.execute("COMMIT")
        await vault.destroy("acme", "pat-1")  # the retry finishes the erasure
        stored = _everything(tmp_path)
        assert not [n for n in _needles(key) if n in stored]
    finally:
        reader.close()
        await vault.close()
