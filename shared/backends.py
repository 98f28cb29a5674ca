"""Opening the backends the settings name: SQLite and the in-process bus, or MongoDB and Kafka."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.bus.inprocess import InProcessBus
from shared.bus.port import Bus
from shared.documents.port import DocumentStore
from shared.documents.sqlite import SqliteDocumentStore
from shared.eventstore.port import EventStore
from shared.eventstore.sqlite import SqliteEventStore
from shared.keyvault import KeyVault
from shared.keyvault.sqlite import SqliteKeyVault, truncate_wal
from shared.metrics import Metrics
from shared.settings import Settings
from shared.sqlite import SqliteDatabase

# Every database (SQLite folder, or MongoDB database `<mongo_database>_<name>`) the one-process
# suite opens: what a test or benchmark drops after a run.
SUITE_DATABASES = (
    "scheduling",
    "staffing",
    "billing",
    "finance",
    "engagement",
    "compliance",
    "compliance_anchors",
    "keyvault",
    "gateway",
    "operations",  # what operators did (dead letters replayed, discarded)
)


@dataclass
class Backends:
    """Stores per service and the one bus of this process. Closing closes what it opened."""

    settings: Settings
    bus: Bus
    databases: set[str] = field(default_factory=set)  # the MongoDB databases it used
    _closers: list[object] = field(default_factory=list)
    _key_vault: KeyVault | None = None
    _files: dict[str, SqliteDatabase] = field(default_factory=dict)  # by (service, file name)
    in_memory: bool = False  # embedded stores on SQLite `:memory:` (tests): nothing on disk
    metrics: Metrics = field(default_factory=Metrics)  # what the services built on them count

    async def event_store(self, service: str) -> EventStore:
        if self.settings.scale_out:
            from shared.eventstore.mongo import open_mongo_event_store

            store: EventStore = await open_mongo_event_store(
                self._mongo_url(), self._database(service)
            )
        else:
            store = SqliteEventStore(self._sqlite(service, "events.db"))
        self._closers.append(store)
        return store

    async def documents(self, service: str) -> DocumentStore:
        if self.settings.scale_out:
            from shared.documents.mongo import open_mongo_document_store

            docs: DocumentStore = await open_mongo_document_store(
                self._mongo_url(), self._database(service)
            )
        else:
            docs = SqliteDocumentStore(self._sqlite(service, "readmodels.db"))
        self._closers.append(docs)
        return docs

    async def key_vault(self) -> KeyVault:
        """The one vault of patients' data keys, in a database of its own (the same vault for
        every service of this process)."""
        if self._key_vault is None:
            if self.settings.scale_out:
                from shared.keyvault.mongo import open_mongo_key_vault

                vault: KeyVault = await open_mongo_key_vault(
                    self._mongo_url(), self._database("keyvault")
                )
            else:
                vault = SqliteKeyVault(self._sqlite("keyvault", "keys.db"))
            self._closers.append(vault)
            self._key_vault = vault
        return self._key_vault

    async def erase_deleted_documents(self, service: str) -> None:
        """Rewrite the service's embedded read-model file so that nothing deleted from it
        stays in its pages or WAL (after moving the data keys an earlier version kept there).
        MongoDB's deletes are the server's: nothing to do."""
        db = self._files.get(f"{service}/readmodels.db")
        if db is not None:
            db.run_sync(lambda c: c.execute("VACUUM"))
            await truncate_wal(db)

    async def close(self) -> None:
        await self.bus.stop()
        for closer in reversed(self._closers):
            await closer.close()  # type: ignore[attr-defined]
        self._closers.clear()

    def _sqlite(self, service: str, name: str) -> SqliteDatabase:
        if self.in_memory:
            # One connection per file: `:memory:` is private to it, so a store opened twice
            # (the auditor reading a producer's) must share the producer's.
            known = self._files.get(f"{service}/{name}")
            if known is not None:
                return known
            db = SqliteDatabase(":memory:")
        else:
            db = SqliteDatabase(
                self.settings.data_dir / service / name, self.settings.sqlite_durability
            )
        self._files[f"{service}/{name}"] = db
        return db

    def _mongo_url(self) -> str:
        assert self.settings.mongo_url is not None
        return self.settings.mongo_url

    def _database(self, service: str) -> str:
        name = f"{self.settings.mongo_database}_{service}"
        self.databases.add(name)
        return name


async def open_backends(settings: Settings) -> Backends:
    bus: Bus
    if settings.scale_out:
        from shared.bus.kafka import KafkaBus

        assert settings.kafka_bootstrap is not None
        bus = KafkaBus(
            settings.kafka_bootstrap,
            client_id="medoffice",
            group_prefix=settings.topic_namespace,
        )
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        bus = InProcessBus(SqliteDatabase(settings.data_dir / "bus.db", settings.sqlite_durability))
    await bus.start()
    return Backends(settings, bus)


async def open_in_memory(settings: Settings) -> Backends:
    """Embedded backends that touch no disk: every store on SQLite `:memory:`, the in-process
    bus on one too. For service-layer tests (`shared.kit.assemble` on these); closing them
    forgets everything."""
    bus = InProcessBus(SqliteDatabase(":memory:"))
    await bus.start()
    return Backends(settings, bus, in_memory=True)
