"""The scale-out KeyVault: a MongoDB database of its own, one document per subject.

Destroying a key removes its fields from the document (what stays is the tombstone), so the
server no longer has it for any query, replica or later backup. What the storage engine keeps
of a deleted field in its files until they are compacted is the server's business: keep its
data files, journal and backups encrypted at rest.
"""

from __future__ import annotations

from typing import Any

from bson import Binary
from pymongo.errors import DuplicateKeyError

from shared.keyvault.port import WrappedKey
from shared.mongo import MongoClient, MongoDatabase, MongoDoc, connect, ping, unavailable

COLLECTION = "data_keys"


def _id(tenant: str, subject: str) -> str:
    return f"{len(tenant)}:{tenant}:{subject}"  # the length makes any tenant name unambiguous


class MongoKeyVault:
    """Wrapped data keys in `db.data_keys`. `client` is closed by `close()` when given."""

    def __init__(self, db: MongoDatabase, *, client: MongoClient | None = None) -> None:
        self._db = db
        self._keys = db[COLLECTION]
        self._client = client

    async def get(self, tenant: str, subject: str) -> WrappedKey | None:
        with unavailable():
            doc = await self._keys.find_one({"_id": _id(tenant, subject)})
        return _key(doc)

    async def create(self, tenant: str, subject: str, key: WrappedKey) -> WrappedKey | None:
        fresh = {
            "_id": _id(tenant, subject),
            "tenant": tenant,
            "subject": subject,
            "nonce": Binary(key.nonce),
            "key": Binary(key.key),
        }
        with unavailable():
            try:
                await self._keys.insert_one(fresh)
            except DuplicateKeyError:
                pass  # a key or a tombstone is there already: that one stands
            doc = await self._keys.find_one({"_id": fresh["_id"]})
        return _key(doc)

    async def destroy(self, tenant: str, subject: str) -> None:
        with unavailable():
            await self._keys.update_one(
                {"_id": _id(tenant, subject)},
                {
                    "$set": {"tenant": tenant, "subject": subject, "destroyed": True},
                    "$unset": {"nonce": "", "key": ""},
                },
                upsert=True,
            )

    async def ping(self) -> None:
        await ping(self._db)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def _key(doc: MongoDoc | None) -> WrappedKey | None:
    if doc is None or doc.get("destroyed") or "key" not in doc:
        return None
    return WrappedKey(nonce=bytes(doc["nonce"]), key=bytes(doc["key"]))


async def open_mongo_key_vault(url: str, database: str, **client_options: Any) -> MongoKeyVault:
    """A vault with its own client (closed by `close()`); it connects on first use."""
    client = connect(url, **client_options)
    return MongoKeyVault(client[database], client=client)
