"""A real SFTP server for tests: asyncssh's server on 127.0.0.1 (a free port), its SFTP
subsystem rooted in a folder of the test's own, a host key and one client key generated per
run. What the far side sees is that folder: a test reads and writes it directly, as the
clearinghouse would on its own machine.

`target()` is what the suite's SFTP adapter is given: the client key's file and a known-hosts
file naming this server's host key (nothing else is trusted)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import asyncssh

from shared.filedrop.sftp import SftpTarget

USER = "medoffice"


class _Server(asyncssh.SSHServer):
    def __init__(self, connections: set[asyncssh.SSHServerConnection]) -> None:
        self._connections = connections
        self._connection: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._connection = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connection is not None:
            self._connections.discard(self._connection)

    def password_auth_supported(self) -> bool:
        return False  # key authentication only, as the suite's client


class LoopbackSftp:
    """Start with `start()`, stop with `stop()` (every connection dropped); `start()` again
    listens on the same port with the same keys (a restart)."""

    def __init__(self, root: Path, keys: Path, folders: tuple[str, ...] = ()) -> None:
        self.root = root
        self.keys = keys
        self.folders = folders
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()
        root.mkdir(parents=True, exist_ok=True)
        for folder in folders:
            (root / folder).mkdir(parents=True, exist_ok=True)
        keys.mkdir(parents=True, exist_ok=True)
        self.client_key_file = keys / "client_ed25519"
        self.client_key.write_private_key(str(self.client_key_file))
        self.client_key_file.chmod(0o600)
        self.known_hosts = keys / "known_hosts"

    async def start(self) -> None:
        self._acceptor = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_factory=lambda: _Server(self._connections),
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(
                self.client_key.export_public_key().decode()
            ),
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=bytes(self.root)),
            allow_scp=False,
        )
        self.port = self._acceptor.get_port()
        self.known_hosts.write_text(known_hosts_line("127.0.0.1", self.port, self.host_key))

    async def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for connection in list(self._connections):
            connection.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.wait_closed(), 5)
        self._connections.clear()

    def target(self, timeout: float = 5.0) -> SftpTarget:
        return SftpTarget(
            host="127.0.0.1",
            port=self.port,
            username=USER,
            client_key=self.client_key_file,
            known_hosts=self.known_hosts,
            timeout=timeout,
        )


def known_hosts_line(host: str, port: int, key: asyncssh.SSHKey) -> str:
    """One OpenSSH known_hosts line pinning `key` for host:port."""
    return f"[{host}]:{port} {key.export_public_key().decode().strip()}\n"
