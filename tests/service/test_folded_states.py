"""The command handler keeps folded states per process and reads only the events after them;
the event store stays the truth (another handler on the same file, a conflict), and what it
keeps never holds a patient's plaintext PHI, nor anything of theirs once they are forgotten."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from shared.backends import Backends
from shared.clock import SystemClock, UuidIds
from shared.commands import CommandHandler
from shared.domain import Command, Decider, Rejected
from shared.events import DomainEvent, Envelope, EventRegistry
from shared.eventstore.port import Commit, EventStore
from shared.eventstore.sqlite import SqliteEventStore
from shared.phi import Phi, PhiEvent, Sealed
from shared.phivault import REDACTED, PhiVault
from shared.settings import key_bytes
from shared.sqlite import SqliteDatabase
from tests.service.conftest import META

STREAM = "acme:row:7"


class Take(Command):
    passenger: str


class SeatTaken(DomainEvent):
    context = "seats"
    passenger: str


def _take(row: tuple[str, ...], command: Take) -> list[DomainEvent]:
    """A row of two seats: never a third passenger."""
    if len(row) == 2:
        raise Rejected(f"the row is full: {', '.join(row)}")
    return [SeatTaken(passenger=command.passenger)]


def _taken(row: tuple[str, ...], event: DomainEvent) -> tuple[str, ...]:
    assert isinstance(event, SeatTaken)
    return (*row, event.passenger)


ROW = Decider[tuple[str, ...], Take](initial=(), evolve=_taken, decide=_take)


class Spy:
    """The store, recording every load's `after_version` and, once, appending for someone
    else just before the next append goes through (a writer that got there first)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.loads: list[int] = []
        self.before_next_append: Take | None = None
        self.other: CommandHandler | None = None

    async def load(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Envelope]:
        self.loads.append(after_version)
        return await self.store.load(stream, after_version, limit)

    async def append(
        self, stream: str, events: Sequence[Envelope], expected_version: int, tags: Sequence[str]
    ) -> Commit:
        first, self.before_next_append = self.before_next_append, None
        if first is not None and self.other is not None:
            await self.other.handle(stream, ROW, first, META)
        return await self.store.append(stream, events, expected_version, tags)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def _handler(store: object, vault: PhiVault | None = None, size: int = 16) -> CommandHandler:
    registry = EventRegistry([SeatTaken, NoteTaken])
    return CommandHandler(
        store,  # type: ignore[arg-type]
        registry,
        SystemClock(),
        UuidIds(),
        vault=vault,
        cached_streams=size,
    )


def _file_store(path: Path) -> SqliteEventStore:
    return SqliteEventStore(SqliteDatabase(path))


async def test_a_load_reads_only_the_events_after_the_state_it_keeps(tmp_path: Path) -> None:
    spy = Spy(_file_store(tmp_path / "events.db"))
    handler = _handler(spy)
    assert await handler.load(STREAM, ROW) == ((), 0)
    await handler.handle(STREAM, ROW, Take(passenger="ada"), META)
    assert await handler.load(STREAM, ROW) == (("ada",), 1)
    assert await handler.load(STREAM, ROW) == (("ada",), 1)
    # From the start once (and once more inside handle: the stream was empty), then the tail.
    assert spy.loads == [0, 0, 0, 1]
    await spy.store.close()


async def test_another_handler_on_the_same_file_is_seen_before_deciding(tmp_path: Path) -> None:
    """Two processes on one SQLite file: what one appends, the other's next command sees."""
    here = _handler(_file_store(tmp_path / "events.db"))
    there = _handler(_file_store(tmp_path / "events.db"))
    await here.handle(STREAM, ROW, Take(passenger="ada"), META)
    assert await here.load(STREAM, ROW) == (("ada",), 1)  # kept here: one seat is free
    await there.handle(STREAM, ROW, Take(passenger="bob"), META)
    with pytest.raises(Rejected, match="full: ada, bob"):
        await here.handle(STREAM, ROW, Take(passenger="cy"), META)
    assert await here.load(STREAM, ROW) == (("ada", "bob"), 2)
    await here.store.close()
    await there.store.close()


async def test_a_conflict_reloads_the_tail_and_decides_again(tmp_path: Path) -> None:
    """Another handler appends between this one's load and its append: the append fails on
    the expected version, the tail (not the stream) is read, and the row is found full."""
    spy = Spy(_file_store(tmp_path / "events.db"))
    here = _handler(spy)
    spy.other = _handler(_file_store(tmp_path / "events.db"))
    await here.handle(STREAM, ROW, Take(passenger="ada"), META)
    assert await here.load(STREAM, ROW) == (("ada",), 1)
    spy.before_next_append = Take(passenger="bob")
    spy.loads.clear()
    with pytest.raises(Rejected, match="full: ada, bob"):
        await here.handle(STREAM, ROW, Take(passenger="cy"), META)
    assert spy.loads == [1, 1]  # decided on version 1, conflicted, read version 2 alone
    assert await here.load(STREAM, ROW) == (("ada", "bob"), 2)
    assert spy.loads[-1] == 2


async def test_the_states_kept_are_bounded_least_recently_used_first_out(tmp_path: Path) -> None:
    spy = Spy(_file_store(tmp_path / "events.db"))
    handler = _handler(spy, size=2)
    for row in ("1", "2", "1", "3"):  # row 2 is the least recently used when row 3 comes
        await handler.handle(f"acme:row:{row}", ROW, Take(passenger=f"p{row}"), META)
        await handler.load(f"acme:row:{row}", ROW)
    assert len(handler.states) == 2
    spy.loads.clear()
    await handler.load("acme:row:1", ROW)
    await handler.load("acme:row:2", ROW)
    assert spy.loads == [2, 0]  # row 1 kept at version 2; row 2 was dropped: from the start
    await spy.store.close()


# --------------------------------------------------------------------------- PHI in the states


class TakeNote(Command):
    patient_id: str
    note: str


class NoteTaken(PhiEvent):
    context = "seats"
    patient_id: str
    note: Phi


def _note(notes: tuple[str | Sealed, ...], command: TakeNote) -> list[DomainEvent]:
    return [NoteTaken(patient_id=command.patient_id, note=command.note)]


def _noted(notes: tuple[str | Sealed, ...], event: DomainEvent) -> tuple[str | Sealed, ...]:
    assert isinstance(event, NoteTaken)
    return (*notes, event.note)


NOTES = Decider[tuple[str | Sealed, ...], TakeNote](initial=(), evolve=_noted, decide=_note)


async def test_a_forgotten_patients_phi_is_not_served_from_the_states_kept(
    backends: Backends,
) -> None:
    vault = PhiVault(await backends.key_vault(), key_bytes(backends.settings.phi_kek))
    spy = Spy(await backends.event_store("notes"))
    handler = _handler(spy, vault)
    stream = "acme:patient:pat-1"
    outcome = await handler.handle(stream, NOTES, TakeNote(patient_id="pat-1", note="cough"), META)
    assert outcome.state == ("cough",)  # the command's own answer holds what it decided with
    # What is kept is the stream as stored: sealed, never the plaintext.
    (kept,) = (await handler.load(stream, NOTES))[0]
    assert isinstance(kept, Sealed)
    assert await vault.reveal("acme", kept) == "cough"
    assert "cough" not in repr(handler.states.get(stream, NOTES))

    await vault.forget("acme", "pat-1")
    assert handler.states.get(stream, NOTES) is None  # dropped with the patient's key
    spy.loads.clear()
    (after,) = (await handler.load(stream, NOTES))[0]
    assert spy.loads == [0]  # read again from the store, where it reads back redacted
    assert await vault.reveal("acme", after) == REDACTED


async def test_forgetting_one_patient_keeps_the_states_of_others(backends: Backends) -> None:
    vault = PhiVault(await backends.key_vault(), key_bytes(backends.settings.phi_kek))
    handler = _handler(await backends.event_store("notes"), vault)
    for patient in ("pat-1", "pat-2"):
        note = TakeNote(patient_id=patient, note="fever")
        await handler.handle(f"acme:patient:{patient}", NOTES, note, META)
        await handler.load(f"acme:patient:{patient}", NOTES)
    await handler.load(STREAM, ROW)
    await vault.forget("acme", "pat-1")
    assert handler.states.get("acme:patient:pat-1", NOTES) is None
    assert handler.states.get("acme:patient:pat-2", NOTES) is not None
    assert handler.states.get(STREAM, ROW) is not None
