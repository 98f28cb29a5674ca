"""The suite as real server processes (`python -m services serve`), for tests that need more
than one process, or a process to die.

Each server gets its own loopback port and log file, and the backends of the test's settings:
its data directory (embedded) or its Kafka topics and MongoDB database (scale-out). Servers
are started from this checkout (cwd = the repository), so they run the code under test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from shared.backends import SUITE_DATABASES
from shared.clock import SystemClock
from shared.http.identity import mint_operator_token, mint_token
from shared.http.keep_alive import client_limits
from shared.settings import Settings
from tests.support import drop_test_data, wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    def __init__(self, settings: Settings, tmp_path: Path, name: str = "server") -> None:
        self.name = name
        self.port = free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MEDOFFICE_PORT": str(self.port),
            "MEDOFFICE_DATA_DIR": str(settings.data_dir),
            "MEDOFFICE_SEED_DEMO": "false",
            "MEDOFFICE_TOPIC_NAMESPACE": settings.topic_namespace,
            "MEDOFFICE_MONGO_DATABASE": settings.mongo_database,
            "MEDOFFICE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
            "MEDOFFICE_MONGO_URL": settings.mongo_url or "",
            "MEDOFFICE_READ_YOUR_WRITES_TIMEOUT": str(settings.read_your_writes_timeout),
        }
        self.log = tmp_path / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        token = mint_token(
            settings.jwt_secret,
            issuer=settings.jwt_issuer,
            subject=f"{name}-test",
            tenant="acme",
            roles=["admin"],
            sites=None,
            now=SystemClock().now(),
        )
        operator = mint_operator_token(
            settings.jwt_secret, issuer=settings.jwt_issuer, subject="ops", now=SystemClock().now()
        )
        self.operator = {"authorization": f"Bearer {operator}"}
        self.client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
            limits=client_limits(),
        )

    def start(self, **env: str) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services", "serve"],
                env={**self.env, **env},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, timeout: float = 60) -> None:
        async def probe() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                return (await self.client.get("/ready")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(probe, timeout=timeout, message=f"{self.name} to be ready")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    async def close(self) -> None:
        self.stop()
        await self.client.aclose()


@contextlib.asynccontextmanager
async def served(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    """`medoffice serve` started and ready; closed after, and the test's data dropped."""
    server = Server(settings, tmp_path)
    server.start()
    try:
        await server.ready()
        yield server
    finally:
        await server.close()
        await drop_test_data(settings, {f"{settings.mongo_database}_{s}" for s in SUITE_DATABASES})
