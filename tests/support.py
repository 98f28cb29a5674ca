"""Small helpers for tests: wait on a condition with a bound, never a bare sleep."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pymongo import AsyncMongoClient

from services.suite import Suite
from shared.settings import Settings

T = TypeVar("T")
C = TypeVar("C")

# Tests book on fixed days (1 December 2026 and after) and some rules read the time: a
# cancellation is late within a day of the visit, an offer lapses two hours after it is made.
# So the suite runs on this clock, not the wall's: whatever day the tests run, they run on the
# Thursday before those visits (9:00 in New York), and time passes at its real pace from there.
TEST_EPOCH = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
_STARTED = time.monotonic()


class TestRunClock:
    """The test run's clock: TEST_EPOCH when the run started, plus the time since, plus
    `shift`, which a test moves to step past a deadline."""

    __test__ = False  # not a test class, though its name says "Test"

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return TEST_EPOCH + timedelta(seconds=time.monotonic() - _STARTED) + self.shift


async def wait_until(
    probe: Callable[[], Awaitable[T]],
    *,
    timeout: float = 15.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Call `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)


async def every_case_holds(cases: Iterable[C], check: Callable[[C], Awaitable[object]]) -> None:
    """Run `check` on every case against one suite, and fail naming each case that failed.
    Cases of the same kind (hostile inputs, edge dates) share a suite this way rather than
    start one each: on the scale-out backend a suite's start is seconds of consumers joining."""
    failed = []
    for case in cases:
        try:
            await check(case)
        except AssertionError as error:
            failed.append(f"{case!r}: {error}")
    assert not failed, f"{len(failed)} case(s) failed:\n" + "\n".join(failed)


async def settled(suite: Suite, timeout: float = 30.0) -> None:
    """Wait until every read model of `suite` holds everything written so far."""

    async def caught_up() -> bool:
        return await suite.behind() == 0

    await wait_until(caught_up, timeout=timeout, message="every read model caught up")


def suite_settings(
    data_dir: Path,
    kafka_bootstrap: str | None = None,
    mongo_url: str | None = None,
    namespace: str = "",
) -> Settings:
    """Settings for a test's own suite: embedded unless servers are named, then with a
    database and topics of the test's own (`namespace`)."""
    return Settings(
        data_dir=data_dir,
        seed_demo=False,
        env="test",
        read_your_writes_timeout=15,
        kafka_bootstrap=kafka_bootstrap,
        mongo_url=mongo_url,
        mongo_database=namespace or "medoffice",
        topic_namespace=f"{namespace}." if namespace else "",
        # Tests that need the no-show timer fire it themselves: it never races a test's steps.
        no_show_timer_seconds=86_400,
        credential_sweep_seconds=86_400,  # likewise the credential sweep
        clearinghouse_poll_seconds=86_400,  # likewise sending and taking back claim files
        claims_recheck_seconds=86_400,  # and re-checking draft claims (tests fire it by hand)
        remittance_resume_seconds=86_400,  # and resuming postings (the reaction posts)
        monitor_timer_seconds=86_400,  # and compliance's timed monitors (tests run them)
        ledger_monitor_seconds=86_400,
        engagement_delivery_seconds=86_400,  # and engagement's deliveries (tests fire them)
    )


ACCESS = "medoffice.scheduling.PatientRecordAccessed.v1"


def changes(entries: list[dict[str, object]]) -> list[dict[str, object]]:
    """Audit entries of changes: without the records of reads (which reads add)."""
    return [e for e in entries if e["type"] != ACCESS]


SUITE_STOP_LIMIT = 200.0  # seconds: under pytest-timeout's 300, so the test fails, not the run


async def stopped_in_time(suite: Suite, limit: float = SUITE_STOP_LIMIT) -> None:
    """Stop a suite, or fail the test naming what it still waits on: every task's stack goes to
    stderr before the stop is cancelled, so a stall is diagnosed where it happened."""
    stopping = asyncio.ensure_future(suite.stop())
    done, _ = await asyncio.wait({stopping}, timeout=limit)
    if not done:
        for task in asyncio.all_tasks():
            task.print_stack(file=sys.stderr)
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping
        raise AssertionError(f"the suite did not stop within {limit:.0f} s; tasks on stderr")
    stopping.result()


async def drop_test_data(settings: Settings, databases: set[str]) -> None:
    """Drop a test's MongoDB databases by name (FerretDB's listDatabases can stall) and delete
    its Kafka topics (those of its namespace). Nothing of a test is left on the shared servers:
    a broker holding every earlier test's partitions grows slow for the tests after."""
    if not settings.scale_out:
        return
    assert settings.mongo_url is not None
    assert settings.kafka_bootstrap is not None
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
    try:
        for name in databases:
            await client.drop_database(name)
    finally:
        await client.close()
    if settings.topic_namespace:
        # Best effort: a test may leave its bootstrap address behind a proxy it cut.
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            async with asyncio.timeout(30):
                await _delete_topics(settings.kafka_bootstrap, settings.topic_namespace)


async def _delete_topics(bootstrap: str, namespace: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(namespace)]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


class TcpProxy:
    """A loopback TCP proxy a test can cut and restore, to take a real backend "down"."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
