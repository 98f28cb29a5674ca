"""A single-node Kafka broker of one test's own, which the test may stop and start again.

The shared test broker (infra/with-infra.sh) must stay up for every other test; a test about a
broker outage starts this one instead: the jars `infra/infra.sh install` fetched into
var/infra/kafka/libs, its own ports and data directory, and a restart that keeps the data
(topics, committed offsets), as a real broker restart does.
"""

from __future__ import annotations

import asyncio
import base64
import signal
import subprocess
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tests.integration.servers import ROOT, free_port
from tests.support import wait_until

LIBS = ROOT / "var" / "infra" / "kafka" / "libs"
LOG_CONFIG = ROOT / "infra" / "kafka" / "log4j2.properties"
STARTED = "Kafka Server started"


class PrivateKafka:
    def __init__(self, directory: Path) -> None:
        if not LIBS.is_dir():
            raise AssertionError(f"no Kafka jars in {LIBS}: run `infra/infra.sh install` first")
        self.directory = directory
        self.port = free_port()
        self.controller_port = free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.log = directory / "kafka.log"
        self._properties = directory / "server.properties"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def _java(self) -> list[str]:
        return ["java", "-Xmx384m", "-cp", f"{LIBS}/*", f"-Dlog4j2.configurationFile={LOG_CONFIG}"]

    def _format(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.directory / 'data'}",
                    "num.partitions=3",
                    "group.initial.rebalance.delay.ms=0",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "",
                ]
            )
        )
        # What `kafka-storage.sh random-uuid` prints: base64url of 16 bytes, no leading "-".
        cluster_id = "-"
        while cluster_id.startswith("-"):
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        with self.log.open("ab") as log:
            subprocess.run(
                [
                    *self._java(),
                    "kafka.tools.StorageTool",
                    "format",
                    "--standalone",
                    "-t",
                    cluster_id,
                    "-c",
                    str(self._properties),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=120,
            )

    async def start(self, timeout: float = 120) -> None:
        """Start the broker (formatting its data directory the first time) and wait until it
        answers metadata requests."""
        if not self._properties.exists():
            await asyncio.to_thread(self._format)
        self._launch()
        await wait_until(self._answers, timeout=timeout, interval=0.25, message="private Kafka")

    def _launch(self) -> None:
        self._log_offset = self.log.stat().st_size
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [*self._java(), "kafka.Kafka", str(self._properties)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    async def _answers(self) -> bool:
        process = self._process
        assert process is not None
        if process.poll() is not None:
            raise AssertionError(f"private Kafka exited: {self.log.read_text()[-3000:]}")
        with self.log.open("rb") as log:
            log.seek(self._log_offset)
            if STARTED.encode() not in log.read():
                return False
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            return bool((await admin.describe_cluster())["brokers"])
        except (KafkaError, OSError):
            return False
        finally:
            await admin.close()

    async def stop(self) -> None:
        """A clean broker shutdown (SIGTERM); SIGKILL only if it ignores that for 60 s. The
        event loop keeps running meanwhile, so the test's clients see the broker go."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)

        async def exited() -> bool:
            return process.poll() is not None

        try:
            await wait_until(exited, timeout=60, interval=0.1, message="private Kafka to stop")
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
