"""The SFTP adapter (asyncssh client): the far side's SFTP server holds the outbound, inbound
and done folders (paths relative to the login folder, or absolute on the server).

Security: key authentication only (no password, keyboard-interactive, GSS or ssh-agent, no
~/.ssh/config); the server's host key is checked against the configured known-hosts file,
which is required: an unknown or changed host key refuses the connection (asyncssh's
`known_hosts=None`, "accept any", is never used).

The semantics are the folder adapter's, with the server doing the renames: a put writes
`.<name>.<token>.part`, syncs it where the server offers `fsync@openssh.com`, and renames it
with the plain SFTP rename, which never replaces an existing file. One connection is kept and
reused; an operation that finds it broken opens a new one once and tries again. Every
operation is bounded by `timeout`; whatever goes wrong on the way (refused, timed out, host
key not verified, connection lost, a folder missing on the server) is FileDropUnavailable
naming the server and the step.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import asyncssh
import structlog

from shared.filedrop.port import (
    FileConflict,
    FileDropUnavailable,
    NoSuchFile,
    check_name,
    done_name,
    is_complete,
    temporary_name,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class SftpTarget:
    """Where and how to reach the far side's SFTP server."""

    host: str
    port: int
    username: str
    client_key: Path  # the private key this side authenticates with
    known_hosts: Path  # OpenSSH known_hosts lines naming the server's host key (`[host]:port`)
    outbound: str = "outbound"
    inbound: str = "inbound"
    done: str = "done"
    timeout: float = 30.0  # seconds, for connecting and for each operation


class SftpDrop:
    """A FileDrop on an SFTP server."""

    def __init__(self, target: SftpTarget) -> None:
        self.target = target
        self._connection: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._connecting = asyncio.Lock()

    async def put(self, name: str, data: bytes) -> None:
        check_name(name)
        final = posixpath.join(self.target.outbound, name)

        async def put(sftp: asyncssh.SFTPClient) -> None:
            existing = await _read_or_none(sftp, final)
            if existing is not None:
                _same_or_conflict(name, existing, data)
                return
            temp = posixpath.join(self.target.outbound, temporary_name(name, secrets.token_hex(8)))
            renamed = False
            try:
                async with sftp.open(temp, "xb") as file:
                    await file.write(data)
                    with contextlib.suppress(asyncssh.SFTPOpUnsupported):
                        await file.fsync()
                await self._publish(sftp, temp, final)
                renamed = True
            except (asyncssh.SFTPFileAlreadyExists, asyncssh.SFTPFailure):
                # Another writer got there first (OpenSSH answers a plain failure).
                existing = await _read_or_none(sftp, final)
                if existing is None:
                    raise
                _same_or_conflict(name, existing, data)
            finally:
                if not renamed:
                    await _remove_quietly(sftp, temp)

        await self._run("put", put)

    async def _publish(self, sftp: asyncssh.SFTPClient, temp: str, final: str) -> None:
        """The step that makes a written file visible under its name (tests fail it)."""
        await sftp.rename(temp, final)

    async def incoming(self) -> Sequence[str]:
        async def listing(sftp: asyncssh.SFTPClient) -> list[str]:
            entries = await sftp.readdir(self.target.inbound)
            return sorted(
                str(entry.filename)
                for entry in entries
                if is_complete(str(entry.filename))
                and entry.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
            )

        return await self._run("list", listing)

    async def read(self, name: str) -> bytes:
        check_name(name)
        path = posixpath.join(self.target.inbound, name)

        async def read(sftp: asyncssh.SFTPClient) -> bytes:
            data = await _read_or_none(sftp, path)
            if data is None:
                raise NoSuchFile(name)
            return data

        return await self._run("read", read)

    async def done(self, name: str) -> None:
        check_name(name)
        source = posixpath.join(self.target.inbound, name)

        async def done(sftp: asyncssh.SFTPClient) -> None:
            data = await _read_or_none(sftp, source)
            if data is None:
                return  # done already (or never there)
            for target_name in (name, done_name(name, data)):
                target = posixpath.join(self.target.done, target_name)
                try:
                    await sftp.rename(source, target)
                    return
                except (asyncssh.SFTPFileAlreadyExists, asyncssh.SFTPFailure):
                    if await _read_or_none(sftp, target) != data:
                        continue
                    await sftp.remove(source)  # the same file was done before
                    return

        await self._run("done", done)

    async def ping(self) -> None:
        async def ping(sftp: asyncssh.SFTPClient) -> None:
            for folder in (self.target.outbound, self.target.inbound, self.target.done):
                if not await sftp.isdir(folder):
                    raise FileDropUnavailable(f"{self._where()}: no folder {folder}")

        await self._run("ping", ping)

    async def close(self) -> None:
        await self._drop_connection()

    async def _run(self, what: str, operation: Callable[[asyncssh.SFTPClient], Awaitable[T]]) -> T:
        """`operation` on the open connection (opening one if need be) within the timeout; a
        reused connection found broken is replaced once."""
        for attempt in (1, 2):
            reused = self._sftp is not None
            try:
                async with asyncio.timeout(self.target.timeout):
                    return await operation(await self._client())
            except (FileConflict, NoSuchFile, FileDropUnavailable):
                raise
            except TimeoutError as exc:
                await self._drop_connection()
                raise FileDropUnavailable(
                    f"{self._where()}: {what} took longer than {self.target.timeout} s"
                ) from exc
            except asyncssh.HostKeyNotVerifiable as exc:
                await self._drop_connection()
                raise FileDropUnavailable(
                    f"{self._where()}: host key not verified against {self.target.known_hosts}"
                    f" ({exc.reason}): connection refused"
                ) from exc
            except asyncssh.SFTPError as exc:
                if not isinstance(exc, _CONNECTION_GONE):
                    # The server refused one request (a folder missing, no permission).
                    raise FileDropUnavailable(
                        f"{self._where()}: {what} refused by the server: {exc.reason}"
                    ) from exc
                await self._drop_connection()
                if reused and attempt == 1:
                    log.info("sftp_reconnecting", host=self.target.host, port=self.target.port)
                    continue
                raise FileDropUnavailable(f"{self._where()}: {what}: {exc.reason}") from exc
            except (asyncssh.Error, asyncssh.KeyImportError, OSError) as exc:
                await self._drop_connection()
                if reused and attempt == 1:
                    log.info("sftp_reconnecting", host=self.target.host, port=self.target.port)
                    continue
                reason = exc.reason if isinstance(exc, asyncssh.Error) else str(exc)
                raise FileDropUnavailable(f"{self._where()}: {what} failed: {reason}") from exc
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _client(self) -> asyncssh.SFTPClient:
        async with self._connecting:
            if self._sftp is None:
                connection = await asyncssh.connect(
                    self.target.host,
                    self.target.port,
                    username=self.target.username,
                    known_hosts=str(self.target.known_hosts),
                    client_keys=[str(self.target.client_key)],
                    preferred_auth="publickey",
                    password=None,
                    kbdint_auth=False,
                    gss_auth=False,
                    host_based_auth=False,
                    agent_path=None,
                    config=[],
                    connect_timeout=self.target.timeout,
                    login_timeout=self.target.timeout,
                    keepalive_interval=max(self.target.timeout / 2, 1.0),
                )
                try:
                    self._sftp = await connection.start_sftp_client()
                except BaseException:
                    connection.close()
                    raise
                self._connection = connection
            return self._sftp

    async def _drop_connection(self) -> None:
        connection, self._connection, self._sftp = self._connection, None, None
        if connection is not None:
            connection.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.wait_closed(), 1.0)

    def _where(self) -> str:
        return f"sftp {self.target.username}@{self.target.host}:{self.target.port}"


# The SFTP session's connection died (closed by the server, a restart, a network cut).
_CONNECTION_GONE = (asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection)


def _same_or_conflict(name: str, existing: bytes, data: bytes) -> None:
    if existing != data:
        raise FileConflict(name)


async def _read_or_none(sftp: asyncssh.SFTPClient, path: str) -> bytes | None:
    """A regular file's bytes (a symbolic link is not followed); None if there is none."""
    try:
        attrs = await sftp.lstat(path)
    except asyncssh.SFTPNoSuchFile:
        return None
    if attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
        return None
    try:
        async with sftp.open(path, "rb") as file:
            data = await file.read()  # "rb": bytes, which asyncssh's types do not say
    except asyncssh.SFTPNoSuchFile:
        return None
    return cast(bytes, data)


async def _remove_quietly(sftp: asyncssh.SFTPClient, path: str) -> None:
    """Best effort: a temporary file left by a failed put is hidden and never listed."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            await sftp.remove(path)
