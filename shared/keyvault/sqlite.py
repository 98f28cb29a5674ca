"""The embedded KeyVault: one SQLite file of its own, where deleted bytes are overwritten.

`PRAGMA secure_delete` zeroes what a delete or update frees, and a TRUNCATE checkpoint copies
the WAL into the database and empties it: when `destroy` returns, neither the database, its WAL
nor its shared-memory index holds the destroyed key. A reader in another process can hold the
WAL back for a moment; the checkpoint is retried, and `destroy` answers StoreUnavailable if the
WAL still could not be emptied.
"""

from __future__ import annotations

import asyncio
import sqlite3

from shared.eventstore.port import StoreUnavailable
from shared.keyvault.port import WrappedKey
from shared.sqlite import SqliteDatabase, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    nonce BLOB,
    wrapped BLOB,
    destroyed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, subject)
)
"""
Row = tuple[bytes | None, bytes | None]  # nonce and wrapped key: both None once destroyed
CHECKPOINT_ATTEMPTS = 50
CHECKPOINT_PAUSE = 0.02  # seconds between attempts: about one second in all


async def truncate_wal(db: SqliteDatabase) -> None:
    """Copy the WAL into the database and empty it, retrying while a reader holds it back."""
    for _ in range(CHECKPOINT_ATTEMPTS):
        if db.run_sync(_checkpoint):
            return
        await asyncio.sleep(CHECKPOINT_PAUSE)
    raise StoreUnavailable(f"{db.path}: a reader holds the WAL; the erasure is not finished")


def _checkpoint(c: sqlite3.Connection) -> bool:
    # No busy wait inside SQLite: it would block the event loop; the caller retries instead.
    (timeout,) = c.execute("PRAGMA busy_timeout").fetchone()
    c.execute("PRAGMA busy_timeout=0")
    try:
        busy, _, _ = c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        c.execute(f"PRAGMA busy_timeout={int(timeout)}")
    return bool(busy == 0)


class SqliteKeyVault:
    """Wrapped data keys in their own SQLite file, deleted for real."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        db.run_sync(lambda c: c.execute("PRAGMA secure_delete=ON"))
        db.run_sync(lambda c: c.execute(_SCHEMA))

    async def get(self, tenant: str, subject: str) -> WrappedKey | None:
        row = self._db.run_sync(lambda c: _row(c, tenant, subject))
        return _key(row)

    async def create(self, tenant: str, subject: str, key: WrappedKey) -> WrappedKey | None:
        def work(c: sqlite3.Connection) -> Row | None:
            c.execute(
                "INSERT OR IGNORE INTO data_keys (tenant, subject, nonce, wrapped) "
                "VALUES (?, ?, ?, ?)",
                (tenant, subject, key.nonce, key.key),
            )
            return _row(c, tenant, subject)

        return _key(self._db.run_sync(lambda c: transaction(c, work)))

    async def destroy(self, tenant: str, subject: str) -> None:
        self._db.run_sync(
            lambda c: c.execute(
                "INSERT INTO data_keys (tenant, subject, destroyed) VALUES (?, ?, 1) "
                "ON CONFLICT (tenant, subject) DO UPDATE SET nonce = NULL, wrapped = NULL, "
                "destroyed = 1",
                (tenant, subject),
            )
        )
        await truncate_wal(self._db)

    async def ping(self) -> None:
        try:
            self._db.run_sync(lambda c: c.execute("SELECT 1").fetchone())
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"key vault unavailable: {exc}") from exc

    async def close(self) -> None:
        await self._db.close()


def _row(c: sqlite3.Connection, tenant: str, subject: str) -> Row | None:
    row: Row | None = c.execute(
        "SELECT nonce, wrapped FROM data_keys WHERE tenant = ? AND subject = ?", (tenant, subject)
    ).fetchone()
    return row


def _key(row: Row | None) -> WrappedKey | None:
    if row is None or row[0] is None or row[1] is None:
        return None
    return WrappedKey(nonce=row[0], key=row[1])
