"""The tenant's claim files, on `streams.claim_files(tenant)`: the one stream that hands out
interchange (ISA13) and group (GS06) control numbers, unique and increasing per tenant, and that
keeps a claim out of two open files.

A file (batch) is open from its creation until its 999 acknowledgement: a claim in an open
file is refused for another (409), so two billers making files at once never put one claim in
both (the second decides on the first's file: the stream is the lock). After a 999 the claims
go their own way (accepted or rejected by the 277CA; a rejected one may go in a new file once
made ready again).

The file's bytes are not kept (many patients' PHI under no one key): the application writes
the file with the control numbers `next_numbers` gives, and records only its digest; the
command names the numbers it wrote, and is refused as `Stale` when another file took them
first (the application then writes again with the next).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from pydantic import AwareDatetime

from services.billing.domain.events import (
    BatchSubmitter,
    ClaimBatchAcknowledged,
    ClaimBatchCreated,
    ClaimBatchSent,
    StreamVersion,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

MAX_CONTROL_NUMBER = 999_999_999  # ISA13 and GS06: nine digits


class Stale(Rejected):
    """Another file took the control numbers this one was written with: write it again."""


class InOpenFile(Rejected):
    """A claim of the file is in another open file already (409)."""


@dataclass(frozen=True)
class Batch:
    created: ClaimBatchCreated
    sent: ClaimBatchSent | None = None
    acknowledged: ClaimBatchAcknowledged | None = None

    @property
    def open(self) -> bool:
        return self.acknowledged is None


_NO_BATCHES: Mapping[str, Batch] = MappingProxyType({})
_NO_CLAIMS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class ClaimFiles:
    last_interchange: int = 0
    last_group: int = 0
    batches: Mapping[str, Batch] = field(default_factory=lambda: _NO_BATCHES)
    # claim id -> the open batch holding it
    in_open_batch: Mapping[str, str] = field(default_factory=lambda: _NO_CLAIMS)

    def next_numbers(self) -> tuple[int, int]:
        """The interchange and group control numbers the next file is written with."""
        return self.last_interchange + 1, self.last_group + 1


def evolve(state: ClaimFiles, event: DomainEvent) -> ClaimFiles:
    match event:
        case ClaimBatchCreated():
            batches = {**state.batches, event.batch_id: Batch(event)}
            held = {**state.in_open_batch, **dict.fromkeys(event.claim_ids, event.batch_id)}
            return ClaimFiles(
                last_interchange=max(state.last_interchange, event.interchange_control_number),
                last_group=max(state.last_group, event.group_control_number),
                batches=MappingProxyType(batches),
                in_open_batch=MappingProxyType(held),
            )
        case ClaimBatchSent() if event.batch_id in state.batches:
            batch = replace(state.batches[event.batch_id], sent=event)
            return replace(
                state, batches=MappingProxyType({**state.batches, event.batch_id: batch})
            )
        case ClaimBatchAcknowledged() if event.batch_id in state.batches:
            batch = replace(state.batches[event.batch_id], acknowledged=event)
            held = {c: b for c, b in state.in_open_batch.items() if b != event.batch_id}
            return replace(
                state,
                batches=MappingProxyType({**state.batches, event.batch_id: batch}),
                in_open_batch=MappingProxyType(held),
            )
    return state


class CreateBatch(Command):
    batch_id: str
    payer_id: str
    interchange_control_number: int
    group_control_number: int
    claim_ids: tuple[str, ...]
    usage: Literal["T", "P"]
    created_at: AwareDatetime
    digest: str
    sources: tuple[StreamVersion, ...]
    submitter: BatchSubmitter


class MarkBatchSent(Command):
    batch_id: str
    file_name: str
    sent_at: AwareDatetime


class AcknowledgeBatch(Command):
    batch_id: str
    code: Literal["A", "E", "R", "P"]
    errors: tuple[str, ...] = ()
    acknowledged_at: AwareDatetime


FileCommand = CreateBatch | MarkBatchSent | AcknowledgeBatch


def decide(state: ClaimFiles, command: FileCommand) -> Sequence[DomainEvent]:
    match command:
        case CreateBatch():
            return [_created(state, command)]
        case MarkBatchSent():
            batch = _batch(state, command.batch_id)
            if batch.sent is not None:
                if batch.sent.file_name == command.file_name:
                    return []  # the same sending recorded twice
                raise Rejected(f"claim file {command.batch_id} was sent already")
            if batch.acknowledged is not None:
                raise Rejected(f"claim file {command.batch_id} was acknowledged already")
            return [ClaimBatchSent(**command.model_dump())]
        case AcknowledgeBatch():
            batch = _batch(state, command.batch_id)
            if batch.acknowledged is not None:
                if batch.acknowledged.code == command.code:
                    return []  # the same 999 read twice
                raise Rejected(f"claim file {command.batch_id} was acknowledged already")
            if batch.sent is None:
                raise Rejected(f"claim file {command.batch_id} was never sent")
            return [ClaimBatchAcknowledged(**command.model_dump())]
    raise AssertionError(f"unhandled {type(command).__name__}")


def _batch(state: ClaimFiles, batch_id: str) -> Batch:
    batch = state.batches.get(batch_id)
    if batch is None:
        raise NotFound(f"claim file {batch_id} not found")
    return batch


def _created(state: ClaimFiles, command: CreateBatch) -> ClaimBatchCreated:
    if (command.interchange_control_number, command.group_control_number) != (state.next_numbers()):
        raise Stale("the control numbers were taken by another claim file")
    if command.batch_id in state.batches:
        raise Rejected(f"claim file {command.batch_id} exists")
    if not command.claim_ids:
        raise Invalid("a claim file holds at least one claim")
    if len(set(command.claim_ids)) != len(command.claim_ids):
        raise Invalid("a claim is in a file once")
    held = sorted(c for c in command.claim_ids if c in state.in_open_batch)
    if held:
        raise InOpenFile(f"claims already in an open claim file: {', '.join(held)}")
    if (command.interchange_control_number, command.group_control_number) != (state.next_numbers()):
        raise Stale("the control numbers were taken by another claim file")
    if command.interchange_control_number > MAX_CONTROL_NUMBER:
        raise Rejected("the interchange control numbers are used up (ISA13 has nine digits)")
    return ClaimBatchCreated(**command.model_dump())


claim_files = Decider[ClaimFiles, FileCommand](ClaimFiles(), evolve, decide)
