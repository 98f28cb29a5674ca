"""The clearinghouse end to end on the service layer, over the drop folder and over SFTP to a
real SFTP server on loopback: claims made, their file made, sent by the send timer, answered by
the loopback clearinghouse (tests/clearinghouse.py) with a 999 and a 277CA, taken back by the
take timer: claims accepted, or rejected with the payer's reasons. A crash between the put and
the record neither loses nor doubles the file; files billing cannot take are listed once and
moved aside; a file read twice changes nothing."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.billing.app import UseCases
from services.billing.application.clearinghouse import Clearinghouse, Taken
from services.billing.domain import streams
from services.billing.domain.claim_files import MarkBatchSent, claim_files
from services.billing.domain.claims import claim_id_for
from services.billing.domain.events import (
    ClaimAdjudicated,
    ClaimBatchSent,
    ClaimSubmitted,
    ClearinghouseFileRejected,
)
from services.billing.domain.x12.acks import (
    ClaimAcknowledgement,
    acknowledgement_of,
    reason,
    reply_envelope,
    write_277ca,
    write_999,
)
from shared.events import DomainEvent, Envelope
from shared.filedrop.port import FileDropUnavailable
from shared.kit import Assembled
from shared.settings import Settings
from shared.timers import Timer
from tests.billing_claim_facts import Facts
from tests.clearinghouse import ANSWERED_AT, LoopbackClearinghouse
from tests.service.conftest import META
from tests.sftp_server import LoopbackSftp
from tests.support import suite_settings, wait_until

Built = Assembled[UseCases]
FIRST = "medoffice-acme-000000001"  # the first file's name, without its extension
NPI_WRONG = reason("A7", "562", "85")
FOLDERS = ("outbound", "inbound", "done")
NPI_REASON = "A7:562:85 Entity's National Provider Identifier (NPI)"


@dataclass(frozen=True)
class Far:
    """The clearinghouse's side: the folder it sees, the settings that reach it, and how it
    goes out of reach (a drop folder that cannot be written, an SFTP server stopped)."""

    root: Path
    settings: dict[str, Any]
    out_of_reach: Callable[[], Awaitable[None]]


@pytest.fixture(params=["folder", "sftp"])
async def far(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Far]:
    if request.param == "folder":
        root = tmp_path / "drop"

        async def unwritable() -> None:
            root.write_bytes(b"a file where the folder should be")

        yield Far(root, {"clearinghouse_folder": root}, unwritable)
        return
    server = LoopbackSftp(
        tmp_path / "sftp-root", tmp_path / "keys", ("outbound", "inbound", "done")
    )
    await server.start()
    target = server.target()
    try:
        yield Far(
            server.root,
            {
                "clearinghouse_adapter": "sftp",
                "clearinghouse_sftp_host": target.host,
                "clearinghouse_sftp_port": target.port,
                "clearinghouse_sftp_user": target.username,
                "clearinghouse_sftp_key": target.client_key,
                "clearinghouse_sftp_known_hosts": target.known_hosts,
                "clearinghouse_timeout_seconds": 10.0,
            },
            server.stop,
        )
    finally:
        await server.stop()


@pytest.fixture
def settings(tmp_path: Path, far: Far) -> Settings:
    """The service tests' settings, with billing's clearinghouse on the far side here."""
    return suite_settings(tmp_path / "never-written").model_copy(update=far.settings)


@pytest.fixture
def facts(billing_service: Built) -> Facts:
    return Facts(billing_service.kit.handler, META)


@pytest.fixture
async def clinic(facts: Facts) -> Facts:
    await facts.clinic("north", "aetna")
    for patient in ("pat-1", "pat-2"):
        await facts.patient(patient)
        await facts.coverage(patient, "aetna")
    return facts


def timer(built: Built, name: str) -> Timer:
    """One of billing's timers, as the service runs it (the tests fire it themselves)."""
    [found] = [w for w in built.service.workers if isinstance(w, Timer) and w.name == name]
    return found


async def send(built: Built) -> int:
    return await timer(built, "billing.clearinghouse.send").fire_due()


async def take(built: Built) -> int:
    return await timer(built, "billing.clearinghouse.take").fire_due()


def clearinghouse(built: Built) -> Clearinghouse:
    return built.use_cases.clearinghouse


async def ready_claims(built: Built, facts: Facts, *charges: tuple[str, str]) -> list[str]:
    """Charges released (the reaction makes their claims), every claim ready."""
    claim_ids = []
    for charge_id, patient in charges:
        await facts.charge(charge_id, patient)
        claim_id = claim_id_for(charge_id)

        async def ready(claim_id: str = claim_id) -> bool:
            stream = streams.claim(META.tenant, claim_id)
            return await built.use_cases.claims.stream_version(stream) > 0 and (
                (await built.use_cases.claims.claim_state(META.tenant, claim_id)).status == "ready"
            )

        await wait_until(ready, message=f"claim of {charge_id} ready")
        claim_ids.append(claim_id)
    return claim_ids


async def one_file(built: Built, claim_ids: list[str]) -> str:
    """A claim file of these claims, made and seen by the read model the send timer reads."""
    [made] = await built.use_cases.claim_files.create_files(META, candidates=claim_ids)

    async def listed() -> bool:
        return (META.tenant, made.batch_id) in await clearinghouse(built).unsent()

    await wait_until(listed, message="the claim file in the read model")
    return made.batch_id


async def status(built: Built, claim_id: str) -> tuple[str, tuple[str, ...]]:
    state = await built.use_cases.claims.claim_state(META.tenant, claim_id)
    return state.status, tuple(state.reasons)


async def recorded(built: Built, stream: str, kind: type[DomainEvent]) -> list[Envelope]:
    return [e for e in await built.kit.store.load(stream) if e.type == kind.type_name()]


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


# ----------------------------------------------------------------------------- end to end


async def test_claims_go_out_and_come_back_accepted_or_rejected_with_reasons(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    accepted, rejected = await ready_claims(
        billing_service, clinic, ("appt-1", "pat-1"), ("appt-2", "pat-2")
    )
    batch_id = await one_file(billing_service, [accepted, rejected])

    assert await send(billing_service) == 1

    assert names(far.root / "outbound") == [f"{FIRST}.837"]
    text = await billing_service.use_cases.claim_files.file_text(META.tenant, batch_id)
    assert (far.root / "outbound" / f"{FIRST}.837").read_text("ascii") == text
    batch = await billing_service.use_cases.claim_files.batch(META.tenant, batch_id)
    assert batch.sent is not None
    assert batch.sent.file_name == f"{FIRST}.837"
    assert await status(billing_service, accepted) == ("submitted", ())

    simulator = LoopbackClearinghouse(far.root, rejections={rejected: [NPI_WRONG]})
    assert simulator.answer() == [f"{FIRST}.999", f"{FIRST}.277"]
    assert [c.claim_id for c in simulator.files[0].claims] == [accepted, rejected]

    assert await take(billing_service) == 2

    assert await status(billing_service, accepted) == ("accepted", ())
    assert await status(billing_service, rejected) == ("rejected", (NPI_REASON,))
    state = await billing_service.use_cases.claims.claim_state(META.tenant, accepted)
    assert state.payer_claim_control_number == f"PCN{accepted}"
    batch = await billing_service.use_cases.claim_files.batch(META.tenant, batch_id)
    assert batch.acknowledged is not None
    assert batch.acknowledged.code == "A"
    assert names(far.root / "inbound") == []
    assert names(far.root / "done") == [f"{FIRST}.277", f"{FIRST}.999"]
    assert await send(billing_service) == 0  # nothing left to send
    assert await take(billing_service) == 0


async def test_the_payers_835_comes_back_the_same_way_and_is_posted_once(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    first, second = await ready_claims(
        billing_service, clinic, ("appt-1", "pat-1"), ("appt-2", "pat-2")
    )
    await one_file(billing_service, [first, second])
    await send(billing_service)
    simulator = LoopbackClearinghouse(far.root)
    simulator.answer()
    await take(billing_service)
    paid = simulator.pay("EFT0001")
    assert [c.claim_ref for c in paid] == [first, second]

    assert await take(billing_service) == 1
    assert "EFT0001.835" in names(far.root / "done")

    async def both_paid() -> bool:
        return all([(await status(billing_service, c))[0] == "paid" for c in (first, second)])

    await wait_until(both_paid, message="the claims posted paid")
    for claim in paid:
        state = await billing_service.use_cases.claims.claim_state(META.tenant, claim.claim_ref)
        assert state.adjudication is not None
        assert state.adjudication.paid_cents == claim.paid_cents
        assert state.adjudication.remittance_id is not None
        assert [line.line_id for line in state.adjudication.lines] == ["1", "2"]

    # The same 835 again (the far side sent it twice): taken, and nothing posted twice.
    again = (far.root / "done" / "EFT0001.835").read_bytes()
    simulator.deliver("EFT0001-again.835", again)
    assert await take(billing_service) == 1
    for claim_id in (first, second):
        events = await recorded(
            billing_service, streams.claim(META.tenant, claim_id), ClaimAdjudicated
        )
        assert len(events) == 1

    # One that does not balance is refused whole, on the rejected-files list.
    simulator.deliver("BAD.835", again.replace(b"BPR*I*", b"BPR*I*1", 1))
    assert await take(billing_service) == 1
    listed = await clearinghouse(billing_service).rejected_files(META.tenant)
    assert "BAD.835" in {e.file_name for e in listed.rejected.values()}
    reason = next(e.reason for e in listed.rejected.values() if e.file_name == "BAD.835")
    assert "does not balance" in reason


async def test_a_file_answered_twice_changes_nothing(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    await one_file(billing_service, claim_ids)
    await send(billing_service)
    simulator = LoopbackClearinghouse(far.root, rejections={claim_ids[0]: [NPI_WRONG]})
    simulator.answer()
    answers = {n: (far.root / "inbound" / n).read_bytes() for n in names(far.root / "inbound")}
    await take(billing_service)
    versions = [
        await billing_service.kit.store.version(stream)
        for stream in (
            streams.claim(META.tenant, claim_ids[0]),
            streams.claim_files(META.tenant),
            streams.clearinghouse_inbox(META.tenant),
        )
    ]

    for name, data in answers.items():  # the clearinghouse sends the same answers again
        simulator.deliver(name, data)
    assert await take(billing_service) == 2

    assert versions == [
        await billing_service.kit.store.version(stream)
        for stream in (
            streams.claim(META.tenant, claim_ids[0]),
            streams.claim_files(META.tenant),
            streams.clearinghouse_inbox(META.tenant),
        )
    ]
    assert names(far.root / "inbound") == []


async def test_a_999_rejecting_the_file_rejects_each_claim_with_its_errors(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    claim_ids = await ready_claims(
        billing_service, clinic, ("appt-1", "pat-1"), ("appt-2", "pat-2")
    )
    batch_id = await one_file(billing_service, claim_ids)
    await send(billing_service)

    assert LoopbackClearinghouse(far.root, file_code="R").answer() == [f"{FIRST}.999"]
    assert await take(billing_service) == 1

    batch = await billing_service.use_cases.claim_files.batch(META.tenant, batch_id)
    assert batch.acknowledged is not None
    assert batch.acknowledged.code == "R"
    for claim_id in claim_ids:
        assert (await status(billing_service, claim_id))[0] == "rejected"


async def test_answers_named_after_nothing_of_ours_are_matched_by_what_they_answer(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    await one_file(billing_service, claim_ids)
    await send(billing_service)

    assert LoopbackClearinghouse(far.root, echo_names=False).answer() == ["ACK1.999", "ACK1.277"]
    assert await take(billing_service) == 2

    assert await status(billing_service, claim_ids[0]) == ("accepted", ())
    assert names(far.root / "done") == ["ACK1.277", "ACK1.999"]


# ----------------------------------------------------------------------- crash in between


class Crash(Exception):
    """The process dies between putting the file and recording it sent."""


async def test_a_crash_between_the_put_and_the_record_neither_loses_nor_doubles_the_file(
    billing_service: Built, clinic: Facts, far: Far, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    batch_id = await one_file(billing_service, claim_ids)
    files = billing_service.use_cases.claim_files

    async def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr(files, "mark_batch_sent", crash)
    with pytest.raises(Crash):
        await send(billing_service)
    monkeypatch.undo()

    put = (far.root / "outbound" / f"{FIRST}.837").read_bytes()
    assert (await files.batch(META.tenant, batch_id)).sent is None  # not recorded: not lost
    assert await status(billing_service, claim_ids[0]) == ("ready", ())

    simulator = LoopbackClearinghouse(far.root)  # a quick clearinghouse answers meanwhile
    simulator.answer()
    assert await take(billing_service) == 2
    assert names(far.root / "inbound") == [f"{FIRST}.277", f"{FIRST}.999"]  # they wait

    (far.root / "received" / f"{FIRST}.837").rename(far.root / "outbound" / f"{FIRST}.837")
    assert await send(billing_service) == 1  # the same bytes under the same name: one file

    assert names(far.root / "outbound") == [f"{FIRST}.837"]
    assert (far.root / "outbound" / f"{FIRST}.837").read_bytes() == put
    claim_files = streams.claim_files(META.tenant)
    assert len(await recorded(billing_service, claim_files, ClaimBatchSent)) == 1
    claim_stream = streams.claim(META.tenant, claim_ids[0])
    assert len(await recorded(billing_service, claim_stream, ClaimSubmitted)) == 1

    assert await take(billing_service) == 2  # the answers that waited are taken now
    assert await status(billing_service, claim_ids[0]) == ("accepted", ())
    assert names(far.root / "inbound") == []


# ------------------------------------------------------------------------ rejected files


async def test_a_file_billing_cannot_read_is_listed_once_and_moved_aside(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    await one_file(billing_service, claim_ids)
    await send(billing_service)
    simulator = LoopbackClearinghouse(far.root)
    simulator.deliver(f"{FIRST}.999", b"this is no 999")

    assert await take(billing_service) == 1

    inbox = await clearinghouse(billing_service).rejected_files(META.tenant)
    [listed] = inbox.rejected.values()
    assert listed.file_name == f"{FIRST}.999"
    assert listed.reason.startswith("not a 999 or 277CA")
    assert names(far.root / "inbound") == []
    assert names(far.root / "done") == [f"{FIRST}.999"]

    simulator.deliver(f"{FIRST}.999", b"this is no 999")  # the same file again
    assert await take(billing_service) == 1
    inbox_stream = streams.clearinghouse_inbox(META.tenant)
    assert len(await recorded(billing_service, inbox_stream, ClearinghouseFileRejected)) == 1
    assert names(far.root / "inbound") == []


async def test_a_277ca_naming_claims_billing_does_not_know_takes_the_rest_and_lists_it(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    await one_file(billing_service, claim_ids)
    await send(billing_service)
    simulator = LoopbackClearinghouse(far.root)
    simulator.answer()
    (far.root / "inbound" / f"{FIRST}.277").unlink()
    sent = simulator.files[0]
    stranger = dataclasses.replace(sent.claims[0], claim_id="NOT-OURS-1")
    answered = dataclasses.replace(sent, claims=(*sent.claims, stranger))
    acks = [_accepted(c.claim_id) for c in answered.claims]
    envelope = reply_envelope(
        answered, interchange_control_number=9001, group_control_number=9001, created_at=ANSWERED_AT
    )
    text = write_277ca(answered, acks, envelope, received_on=ANSWERED_AT.date())
    simulator.deliver(f"{FIRST}.277", text.encode("ascii"))

    assert await take(billing_service) == 2

    assert await status(billing_service, claim_ids[0]) == ("accepted", ())
    inbox = await clearinghouse(billing_service).rejected_files(META.tenant)
    [listed] = inbox.rejected.values()
    assert listed.reason == "names claims billing does not know: NOT-OURS-1"
    assert names(far.root / "inbound") == []


def _accepted(claim_id: str) -> ClaimAcknowledgement:
    return ClaimAcknowledgement(claim_id=claim_id, accepted=True)


async def test_a_file_no_tenant_can_be_told_is_left_where_it_is(
    billing_service: Built, far: Far
) -> None:
    LoopbackClearinghouse(far.root).deliver("mystery.999", b"ISA*garbage~")

    assert await take(billing_service) == 1

    assert names(far.root / "inbound") == ["mystery.999"]
    assert await billing_service.kit.store.version(streams.clearinghouse_inbox(META.tenant)) == 0


async def test_the_far_side_out_of_reach_keeps_the_file_for_the_next_round(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    batch_id = await one_file(billing_service, claim_ids)
    await far.out_of_reach()

    with pytest.raises(FileDropUnavailable):
        await send(billing_service)

    assert (await billing_service.use_cases.claim_files.batch(META.tenant, batch_id)).sent is None
    assert await status(billing_service, claim_ids[0]) == ("ready", ())


async def test_a_crash_after_the_file_was_recorded_sent_but_before_its_claims_is_mended(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    batch_id = await one_file(billing_service, claim_ids)
    files = billing_service.use_cases.claim_files
    await clearinghouse(billing_service).drop.put(
        f"{FIRST}.837", (await files.file_text(META.tenant, batch_id)).encode("ascii")
    )
    sent = MarkBatchSent(batch_id=batch_id, file_name=f"{FIRST}.837", sent_at=ANSWERED_AT)
    await files.decide(streams.claim_files(META.tenant), claim_files, sent, META)  # then died
    assert await status(billing_service, claim_ids[0]) == ("ready", ())

    LoopbackClearinghouse(far.root, rejections={claim_ids[0]: [NPI_WRONG]}).answer()
    assert await take(billing_service) == 2

    assert await status(billing_service, claim_ids[0]) == ("rejected", (NPI_REASON,))
    claim_stream = streams.claim(META.tenant, claim_ids[0])
    assert len(await recorded(billing_service, claim_stream, ClaimSubmitted)) == 1
    assert await billing_service.kit.store.version(streams.clearinghouse_inbox(META.tenant)) == 0


async def test_a_second_999_saying_otherwise_is_listed_not_retried_for_ever(
    billing_service: Built, clinic: Facts, far: Far
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    batch_id = await one_file(billing_service, claim_ids)
    await send(billing_service)
    simulator = LoopbackClearinghouse(far.root)
    simulator.answer()
    await take(billing_service)
    text = await billing_service.use_cases.claim_files.file_text(META.tenant, batch_id)
    envelope = reply_envelope(
        simulator.files[0],
        interchange_control_number=9002,
        group_control_number=9002,
        created_at=ANSWERED_AT,
    )
    simulator.deliver("second.999", write_999(acknowledgement_of(text, "R"), envelope).encode())

    assert await take(billing_service) == 1

    inbox = await clearinghouse(billing_service).rejected_files(META.tenant)
    [listed] = inbox.rejected.values()
    assert listed.file_name == "second.999"
    assert listed.reason.startswith(f"cannot acknowledge claim file {batch_id}")
    assert names(far.root / "inbound") == []
    batch = await billing_service.use_cases.claim_files.batch(META.tenant, batch_id)
    assert batch.acknowledged is not None
    assert batch.acknowledged.code == "A"


async def test_a_file_that_fails_holds_back_no_other(
    billing_service: Built, clinic: Facts, far: Far, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim_ids = await ready_claims(billing_service, clinic, ("appt-1", "pat-1"))
    await one_file(billing_service, claim_ids)
    await send(billing_service)
    LoopbackClearinghouse(far.root).answer()
    ours = clearinghouse(billing_service)
    take_one = ours.take

    async def failing_first(name: str) -> Taken:
        if name.endswith(".277"):
            raise RuntimeError("a bug")
        return await take_one(name)

    monkeypatch.setattr(ours, "take", failing_first)
    kinds = [t.kind for t in await ours.take_due()]

    assert kinds == ["failed", "999"]
    assert names(far.root / "inbound") == [f"{FIRST}.277"]  # left for the next round
    monkeypatch.undo()
    assert [t.kind for t in await ours.take_due()] == ["277CA"]
    assert await status(billing_service, claim_ids[0]) == ("accepted", ())
