"""The FileDrop contract, run against both adapters: a drop folder, and SFTP to a real
asyncssh SFTP server on loopback (tests/sftp_server.py). `far` is the folder the far side
sees (the drop folder itself, or the SFTP server's root): the tests play the clearinghouse on
it directly."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import asyncssh
import pytest

from shared.filedrop.folder import FolderDrop
from shared.filedrop.port import (
    BadFileName,
    FileConflict,
    FileDrop,
    FileDropUnavailable,
    NoSuchFile,
    done_name,
    is_complete,
)
from shared.filedrop.sftp import SftpDrop, SftpTarget
from tests.sftp_server import LoopbackSftp, known_hosts_line

FOLDERS = ("outbound", "inbound", "done")
HOSTILE = [
    "",
    ".",
    "..",
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b",
    "a\\b",
    "a\x00b",
    "a\nb",
    ".hidden",
    "upload.part",
    " padded ",
]


@dataclass
class Harness:
    drop: FolderDrop | SftpDrop
    far: Path  # outbound/, inbound/, done/ as the far side sees them

    def deliver(self, name: str, data: bytes) -> None:
        """The far side hands a file in the way the port expects: written aside, renamed."""
        inbound = self.far / "inbound"
        inbound.mkdir(parents=True, exist_ok=True)
        temp = inbound / f".{name}.far.part"
        temp.write_bytes(data)
        temp.rename(inbound / name)

    def outbound(self) -> list[str]:
        folder = self.far / "outbound"
        return sorted(os.listdir(folder)) if folder.exists() else []


@pytest.fixture(params=["folder", "sftp"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "folder":
        root = tmp_path / "drop"
        yield Harness(FolderDrop(root), root)
        return
    server = LoopbackSftp(tmp_path / "sftp-root", tmp_path / "keys", FOLDERS)
    await server.start()
    drop = SftpDrop(server.target())
    try:
        yield Harness(drop, server.root)
    finally:
        await drop.close()
        await server.stop()


@pytest.fixture
async def sftp_server(tmp_path: Path) -> AsyncIterator[LoopbackSftp]:
    server = LoopbackSftp(tmp_path / "sftp-root", tmp_path / "keys", FOLDERS)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class SimulatedCrash(Exception):
    """The writer dies between writing the temporary file and renaming it."""


# ------------------------------------------------------------------------------- contract


async def test_a_put_file_is_on_the_far_side_whole_with_nothing_else(harness: Harness) -> None:
    await harness.drop.put("claims-1.837", b"ISA*00*...~" * 1000)

    assert harness.outbound() == ["claims-1.837"]
    assert (harness.far / "outbound" / "claims-1.837").read_bytes() == b"ISA*00*...~" * 1000


async def test_a_put_again_with_the_same_bytes_changes_nothing(harness: Harness) -> None:
    await harness.drop.put("claims-1.837", b"first")
    await harness.drop.put("claims-1.837", b"first")

    assert harness.outbound() == ["claims-1.837"]
    assert (harness.far / "outbound" / "claims-1.837").read_bytes() == b"first"


async def test_a_put_of_other_bytes_under_a_taken_name_is_refused(harness: Harness) -> None:
    await harness.drop.put("claims-1.837", b"first")

    with pytest.raises(FileConflict):
        await harness.drop.put("claims-1.837", b"second")

    assert (harness.far / "outbound" / "claims-1.837").read_bytes() == b"first"
    assert harness.outbound() == ["claims-1.837"]


async def test_puts_racing_for_one_name_never_overwrite(harness: Harness) -> None:
    same = await asyncio.gather(*(harness.drop.put("a.837", b"same") for _ in range(4)))
    assert same == [None] * 4
    outcomes = await asyncio.gather(
        harness.drop.put("b.837", b"one"),
        harness.drop.put("b.837", b"two"),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["FileConflict", "NoneType"]
    written = (harness.far / "outbound" / "b.837").read_bytes()
    assert outcomes[[b"one", b"two"].index(written)] is None
    assert harness.outbound() == ["a.837", "b.837"]


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_names_are_refused_before_anything_is_touched(
    harness: Harness, name: str
) -> None:
    with pytest.raises(BadFileName):
        await harness.drop.put(name, b"x")
    with pytest.raises(BadFileName):
        await harness.drop.read(name)
    with pytest.raises(BadFileName):
        await harness.drop.done(name)

    assert harness.outbound() == []
    assert not (harness.far.parent / "x").exists()
    assert not (harness.far / "x").exists()


async def test_a_crash_between_writing_and_renaming_leaves_no_file_under_the_name(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*args: object) -> None:
        raise SimulatedCrash

    def crash_now(*args: object) -> None:
        raise SimulatedCrash

    monkeypatch.setattr(
        harness.drop, "_publish", crash if isinstance(harness.drop, SftpDrop) else crash_now
    )
    with pytest.raises(SimulatedCrash):
        await harness.drop.put("claims-1.837", b"whole file")
    assert [n for n in harness.outbound() if is_complete(n)] == []

    monkeypatch.undo()
    await harness.drop.put("claims-1.837", b"whole file")  # the retry after the crash

    assert (harness.far / "outbound" / "claims-1.837").read_bytes() == b"whole file"


async def test_a_temporary_file_left_by_a_killed_writer_is_never_a_file(harness: Harness) -> None:
    (harness.far / "outbound").mkdir(parents=True, exist_ok=True)
    left = harness.far / "outbound" / ".claims-1.837.1f2e3d.part"
    left.write_bytes(b"half a fi")

    await harness.drop.put("claims-1.837", b"whole file")

    assert [n for n in harness.outbound() if is_complete(n)] == ["claims-1.837"]
    assert (harness.far / "outbound" / "claims-1.837").read_bytes() == b"whole file"


async def test_a_file_still_being_uploaded_is_not_incoming(harness: Harness) -> None:
    inbound = harness.far / "inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    (inbound / ".ack-1.999.part").write_bytes(b"ISA*00*")  # hidden while it is written
    (inbound / "ack-2.999.part").write_bytes(b"ISA*00*")  # or named as an upload

    assert await harness.drop.incoming() == []

    (inbound / ".ack-1.999.part").rename(inbound / "ack-1.999")

    assert await harness.drop.incoming() == ["ack-1.999"]


async def test_incoming_files_are_listed_sorted_and_read_whole(harness: Harness) -> None:
    harness.deliver("b.277", b"277 bytes")
    harness.deliver("a.999", b"999 bytes")

    assert await harness.drop.incoming() == ["a.999", "b.277"]
    assert await harness.drop.read("a.999") == b"999 bytes"
    with pytest.raises(NoSuchFile):
        await harness.drop.read("c.999")


async def test_a_file_done_is_never_listed_or_read_again(harness: Harness) -> None:
    harness.deliver("a.999", b"999 bytes")

    await harness.drop.done("a.999")

    assert await harness.drop.incoming() == []
    with pytest.raises(NoSuchFile):
        await harness.drop.read("a.999")
    assert (harness.far / "done" / "a.999").read_bytes() == b"999 bytes"
    await harness.drop.done("a.999")  # twice: nothing
    assert os.listdir(harness.far / "done") == ["a.999"]


async def test_another_file_under_a_name_done_before_is_kept_beside_it(harness: Harness) -> None:
    harness.deliver("a.999", b"first")
    await harness.drop.done("a.999")
    harness.deliver("a.999", b"second")

    assert await harness.drop.incoming() == ["a.999"]
    await harness.drop.done("a.999")

    assert await harness.drop.incoming() == []
    assert (harness.far / "done" / "a.999").read_bytes() == b"first"
    assert (harness.far / "done" / done_name("a.999", b"second")).read_bytes() == b"second"


async def test_a_symbolic_link_incoming_is_neither_listed_nor_followed(
    harness: Harness, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"not for the far side")
    (harness.far / "inbound").mkdir(parents=True, exist_ok=True)
    (harness.far / "inbound" / "link.999").symlink_to(secret)

    assert await harness.drop.incoming() == []
    with pytest.raises(NoSuchFile):
        await harness.drop.read("link.999")


async def test_ping_answers_when_the_drop_is_reachable(harness: Harness) -> None:
    await harness.drop.ping()


# ---------------------------------------------------------------------------- drop folder


async def test_a_drop_folder_is_made_on_first_write_not_before(tmp_path: Path) -> None:
    drop = FolderDrop(tmp_path / "drop")

    assert await drop.incoming() == []
    await drop.done("a.999")
    assert not (tmp_path / "drop").exists()

    await drop.put("a.837", b"x")
    assert (tmp_path / "drop" / "outbound" / "a.837").read_bytes() == b"x"


async def test_a_drop_folder_that_cannot_be_written_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "drop").write_bytes(b"a file where the folder should be")
    drop = FolderDrop(tmp_path / "drop")

    with pytest.raises(FileDropUnavailable, match="drop folder"):
        await drop.put("a.837", b"x")


# ----------------------------------------------------------------------------------- SFTP


async def test_sftp_refuses_a_server_whose_host_key_is_not_pinned(
    sftp_server: LoopbackSftp, tmp_path: Path
) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    pinned = tmp_path / "other_known_hosts"
    pinned.write_text(known_hosts_line("127.0.0.1", sftp_server.port, impostor))
    drop = SftpDrop(replace(sftp_server.target(), known_hosts=pinned))

    with pytest.raises(FileDropUnavailable, match="host key not verified"):
        await drop.put("a.837", b"claims")

    assert os.listdir(sftp_server.root / "outbound") == []
    await drop.close()


async def test_sftp_refuses_a_server_known_under_no_name(
    sftp_server: LoopbackSftp, tmp_path: Path
) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    drop = SftpDrop(replace(sftp_server.target(), known_hosts=empty))

    with pytest.raises(FileDropUnavailable, match="host key not verified"):
        await drop.incoming()
    await drop.close()


async def test_sftp_without_its_known_hosts_file_connects_nowhere(
    sftp_server: LoopbackSftp, tmp_path: Path
) -> None:
    drop = SftpDrop(replace(sftp_server.target(), known_hosts=tmp_path / "missing"))

    with pytest.raises(FileDropUnavailable, match="No such file"):
        await drop.put("a.837", b"claims")

    assert os.listdir(sftp_server.root / "outbound") == []
    await drop.close()


async def test_sftp_with_a_key_the_server_does_not_know_is_refused(
    sftp_server: LoopbackSftp, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger_ed25519"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(stranger))
    stranger.chmod(0o600)
    drop = SftpDrop(replace(sftp_server.target(), client_key=stranger))

    with pytest.raises(FileDropUnavailable, match="failed"):
        await drop.put("a.837", b"claims")

    assert os.listdir(sftp_server.root / "outbound") == []
    await drop.close()


async def test_sftp_reconnects_after_the_server_restarts(sftp_server: LoopbackSftp) -> None:
    drop = SftpDrop(sftp_server.target())
    await drop.put("a.837", b"one")

    await sftp_server.stop()
    with pytest.raises(FileDropUnavailable):
        await drop.incoming()
    await sftp_server.start()
    await drop.put("b.837", b"two")  # a fresh connection, no error first

    await sftp_server.stop()
    await sftp_server.start()
    await drop.put("c.837", b"three")  # the kept connection is broken: replaced once

    assert sorted(os.listdir(sftp_server.root / "outbound")) == ["a.837", "b.837", "c.837"]
    await drop.close()


async def test_sftp_to_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    quiet = asyncio.Event()

    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await quiet.wait()
        writer.close()

    server = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    keys = LoopbackSftp(tmp_path / "unused-root", tmp_path / "keys")
    keys.known_hosts.write_text(known_hosts_line("127.0.0.1", port, keys.host_key))
    drop = SftpDrop(
        SftpTarget(
            host="127.0.0.1",
            port=port,
            username="medoffice",
            client_key=keys.client_key_file,
            known_hosts=keys.known_hosts,
            timeout=0.5,
        )
    )
    try:
        with pytest.raises(FileDropUnavailable, match="took longer than 0.5 s"):
            await drop.incoming()
    finally:
        quiet.set()
        await drop.close()
        server.close()
        await server.wait_closed()


async def test_sftp_to_a_closed_port_is_unavailable(sftp_server: LoopbackSftp) -> None:
    await sftp_server.stop()
    drop = SftpDrop(sftp_server.target())

    with pytest.raises(FileDropUnavailable, match=f"127.0.0.1:{sftp_server.port}"):
        await drop.ping()
    await drop.close()


async def test_sftp_with_a_folder_missing_on_the_server_is_unavailable(
    sftp_server: LoopbackSftp,
) -> None:
    drop = SftpDrop(replace(sftp_server.target(), inbound="acks"))

    with pytest.raises(FileDropUnavailable, match="refused by the server"):
        await drop.incoming()
    with pytest.raises(FileDropUnavailable, match="no folder acks"):
        await drop.ping()
    await drop.close()


def test_a_file_drop_is_what_both_adapters_are(tmp_path: Path) -> None:
    drops: list[FileDrop] = [
        FolderDrop(tmp_path),
        SftpDrop(
            SftpTarget("127.0.0.1", 22, "medoffice", tmp_path / "k", tmp_path / "known_hosts")
        ),
    ]
    assert len(drops) == 2
