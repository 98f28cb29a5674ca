"""A Kafka client whose start is cancelled or times out leaves no connection open.

aiokafka's bootstrap, cancelled while it waits for the cluster's metadata, drops the connection
it opened without closing it. A stand-in broker here answers a connection's ApiVersions and
then never its Metadata request, and counts the connections still open: the cancel or timeout
lands exactly in that wait. No real broker is needed.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka.protocol.admin import ApiVersionResponse_v0, ApiVersionResponse_v1

from shared.bus.kafka import KafkaBus
from shared.bus.kafka_start import start_whole
from shared.bus.port import BusUnavailable
from shared.noticeboard.kafka import KafkaNoticeboard
from tests.support import wait_until

API_VERSIONS = 18
# Every API key at versions 0 to 1: enough for a client to pick its requests.
VERSIONS = [(key, 0, 1) for key in range(70)]


class MutedBroker:
    """Accepts connections, answers ApiVersions, and leaves every other request unanswered."""

    def __init__(self) -> None:
        self.open = 0
        self.metadata_asked = asyncio.Event()
        self._server: asyncio.Server | None = None

    @property
    def bootstrap(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            while True:
                (size,) = struct.unpack(">i", await reader.readexactly(4))
                frame = await reader.readexactly(size)
                api_key, api_version, correlation_id = struct.unpack(">hhi", frame[:8])
                if api_key != API_VERSIONS:
                    self.metadata_asked.set()
                    continue
                body = (
                    ApiVersionResponse_v0(0, VERSIONS)
                    if api_version == 0
                    else ApiVersionResponse_v1(0, VERSIONS, 0)
                ).encode()
                writer.write(struct.pack(">ii", 4 + len(body), correlation_id) + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its connection
        finally:
            self.open -= 1
            writer.close()

    async def all_closed(self) -> None:
        async def none_open() -> bool:
            return self.open == 0

        await wait_until(none_open, timeout=10, message="every connection closed by the client")


@pytest.fixture
async def broker() -> AsyncIterator[MutedBroker]:
    muted = MutedBroker()
    await muted.start()
    yield muted
    await muted.close()


async def test_a_bus_start_cancelled_while_it_waits_for_metadata_closes_its_connection(
    broker: MutedBroker,
) -> None:
    bus = KafkaBus(broker.bootstrap, request_timeout=0.5, connect_timeout=30)
    starting = asyncio.create_task(bus.start())
    await asyncio.wait_for(broker.metadata_asked.wait(), timeout=10)

    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting

    await broker.all_closed()


async def test_a_bus_start_past_its_connect_timeout_closes_its_connection(
    broker: MutedBroker,
) -> None:
    bus = KafkaBus(broker.bootstrap, request_timeout=0.5, connect_timeout=0.1)

    with pytest.raises(BusUnavailable):
        await bus.start()

    assert broker.metadata_asked.is_set()
    await broker.all_closed()


async def test_a_noticeboard_past_its_timeout_closes_its_connection(broker: MutedBroker) -> None:
    board = KafkaNoticeboard(broker.bootstrap, "heads", timeout=0.5)

    with pytest.raises(BusUnavailable):
        await board.publish([("k", b"v")])

    assert broker.metadata_asked.is_set()
    await broker.all_closed()


class Client:
    """A start that takes `takes` seconds (the time it is given to run to its end), and a stop."""

    def __init__(self, takes: float) -> None:
        self.takes = takes
        self.started = asyncio.Event()
        self.start_ended = False
        self.start_cut_short = False
        self.stopped = False

    async def start(self) -> None:
        self.started.set()
        try:
            await asyncio.sleep(self.takes)
        except asyncio.CancelledError:
            self.start_cut_short = True
            raise
        self.start_ended = True

    async def stop(self) -> None:
        self.stopped = True


async def cancelled_while_starting(client: Client, bound: float, *, cancels: int = 1) -> None:
    starting = asyncio.create_task(start_whole(client.start(), client.stop, bound))
    await client.started.wait()
    for _ in range(cancels):
        starting.cancel()
        await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        await starting


async def test_a_start_cancelled_runs_to_its_end_then_stops() -> None:
    client = Client(takes=0.05)
    await cancelled_while_starting(client, bound=10)
    assert (client.start_ended, client.start_cut_short, client.stopped) == (True, False, True)


async def test_a_start_cancelled_twice_still_runs_to_its_end_then_stops() -> None:
    client = Client(takes=0.05)
    await cancelled_while_starting(client, bound=10, cancels=2)

    async def stopped() -> bool:
        return client.stopped

    await wait_until(stopped, timeout=5, message="the client stopped")
    assert (client.start_ended, client.start_cut_short) == (True, False)


async def test_a_start_cancelled_past_the_bound_is_cut_short_and_stopped() -> None:
    client = Client(takes=60)
    await cancelled_while_starting(client, bound=0.05)
    assert (client.start_ended, client.start_cut_short, client.stopped) == (False, True, True)


async def test_a_start_not_cancelled_is_neither_stopped_nor_cut_short() -> None:
    client = Client(takes=0)
    await start_whole(client.start(), client.stop, bound=1)
    assert (client.start_ended, client.stopped) == (True, False)


async def test_a_failed_start_raises_its_own_error() -> None:
    async def fails() -> None:
        raise OSError("refused")

    stop: Callable[[], Awaitable[None]] = Client(0).stop
    with pytest.raises(OSError, match="refused"):
        await start_whole(fails(), stop, bound=1)
