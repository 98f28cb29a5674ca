"""The live tail, embedded: delay from append to the SSE client, and the cost of a watcher.

`python -m bench.tail [events] [bookings]`. The suite runs in this process (`build_suite`),
served by uvicorn on a loopback port; the watcher is a real HTTP client streaming
`GET /ops/events/tail` over that socket, the writes go through the app in-process (httpx's
ASGITransport), as bench/scheduling.py does.

- Delay: sites are registered at 200 a second (a fixed schedule, one POST each, a correlation
  id of its own); each one's delay runs from its POST answering (the commit is in the event
  store) to its event arriving at the watcher: outbox relay, bus, follow, filter, SSE, socket.
- Cost: bookings by 4 concurrent clients without a watcher, with one watcher following
  everything, and without again; throughput with the watcher as a ratio of the mean of the
  two runs without (the baseline, measured in the same run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from bench import clinic
from services.suite import Suite, build_suite
from shared.clock import SystemClock
from shared.http.identity import mint_operator_token, mint_token
from shared.observability import configure_logging
from shared.settings import Settings

RATE = 200.0  # events a second
CLIENTS = 4
ALL_WEEK = [{"weekday": d, "opens": "00:00", "closes": "23:59"} for d in range(7)]
WINDOWS = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.asynccontextmanager
async def served(suite: Suite) -> AsyncIterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        suite.app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Watcher:
    """A streaming SSE client of the tail: each event's arrival time, by correlation id."""

    def __init__(self, url: str, token: str, **params: str) -> None:
        self.arrived: dict[str, float] = {}
        self.events = 0
        self._url, self._token, self._params = url, token, params
        self._following = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self._following.wait(), 30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _read(self) -> None:
        headers = {"authorization": f"Bearer {self._token}"}
        async with (
            httpx.AsyncClient(base_url=self._url, headers=headers, timeout=None) as http,
            http.stream("GET", "/ops/events/tail", params=self._params) as response,
        ):
            async for line in response.aiter_lines():
                if line == ": following":
                    self._following.set()
                elif line.startswith("data:"):
                    self.events += 1
                    event = json.loads(line[5:])
                    self.arrived[event["correlation_id"]] = time.perf_counter()


async def measure_delay(client: httpx.AsyncClient, url: str, token: str, count: int) -> str:
    sent: dict[str, float] = {}
    async with Watcher(url, token, type="SiteRegistered") as watcher:
        start = time.perf_counter()

        async def register(n: int) -> None:
            await asyncio.sleep(max(0.0, start + n / RATE - time.perf_counter()))
            correlation = f"tail-bench-{n}"
            response = await client.post(
                "/scheduling/sites",
                json={"site_id": f"tail-{n}", "name": f"Site {n}", "time_zone": "UTC"},
                headers={"x-correlation-id": correlation},
            )
            if response.status_code != 201:
                raise RuntimeError(f"POST /scheduling/sites: {response.status_code}")
            sent[correlation] = time.perf_counter()

        await asyncio.gather(*(register(n) for n in range(count)))
        wall = time.perf_counter() - start
        deadline = time.monotonic() + 60
        while len(watcher.arrived) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    delays = [(watcher.arrived[c] - t) * 1000 for c, t in sent.items() if c in watcher.arrived]
    return (
        f"append -> SSE client, {count} events at {RATE:.0f}/s (achieved {count / wall:.0f}/s): "
        f"p50 {_quantile(delays, 0.5):.1f} ms, p99 {_quantile(delays, 0.99):.1f} ms, "
        f"max {max(delays):.1f} ms, {len(delays)}/{count} arrived"
    )


async def set_up(client: httpx.AsyncClient, first_day: date) -> None:
    site = {"site_id": "north", "name": "North", "time_zone": "UTC", "opening_hours": ALL_WEEK}
    await client.post("/scheduling/sites", json=site)
    await clinic.hire(client, "dr-t", ["north"], first_day)
    await clinic.learnt(client, ["dr-t"])
    visit = {"visit_type_id": "v", "name": "Visit", "duration_minutes": 15, "room_type": None}
    await client.post("/scheduling/visit-types", json=visit)
    availability = {
        "site_id": "north",
        "windows": WINDOWS,
        "effective_from": first_day.isoformat(),
    }
    await client.post("/scheduling/providers/dr-t/availability", json=availability)
    patient = {"patient_id": "pat-t", "name": "Bench Patient", "birth_date": "1970-01-01"}
    await client.post("/scheduling/patients", json=patient)


async def book(client: httpx.AsyncClient, first_day: date, slots: range) -> float:
    """Bookings per second by CLIENTS clients, each slot on a site-day of its own in turn."""
    queue = list(reversed(slots))
    refused = 0

    async def desk() -> None:
        nonlocal refused
        while queue:
            n = queue.pop()
            day = datetime.combine(first_day, datetime.min.time(), UTC) + timedelta(days=n % 60)
            start = day + timedelta(minutes=15 * (n // 60))
            body = {
                "patient_id": "pat-t",
                "provider_id": "dr-t",
                "site_id": "north",
                "visit_type_id": "v",
                "start": start.isoformat(),
            }
            if (await client.post("/scheduling/appointments", json=body)).status_code != 201:
                refused += 1

    began = time.perf_counter()
    await asyncio.gather(*(desk() for _ in range(CLIENTS)))
    if refused:
        raise RuntimeError(f"{refused} bookings refused")
    return len(slots) / (time.perf_counter() - began)


async def main(events: int, bookings: int) -> None:
    configure_logging("warning")  # a log line per request would be measured too
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            data_dir=Path(data), seed_demo=False, env="test", sqlite_durability="normal"
        )
        now = SystemClock().now()
        admin = mint_token(
            settings.jwt_secret,
            issuer=settings.jwt_issuer,
            subject="bench",
            tenant="bench-group",
            roles=["admin"],
            sites=None,
            now=now,
        )
        operator = mint_operator_token(
            settings.jwt_secret, issuer=settings.jwt_issuer, subject="bench-ops", now=now
        )
        suite = await build_suite(settings)
        await suite.start()
        try:
            transport = httpx.ASGITransport(app=suite.app)
            async with (
                httpx.AsyncClient(
                    transport=transport,
                    base_url="http://medoffice",
                    headers={"authorization": f"Bearer {admin}"},
                    timeout=300,
                ) as client,
                served(suite) as url,
            ):
                print(await measure_delay(client, url, operator, events))
                first_day = date(2027, 1, 4)
                await set_up(client, first_day)
                alone = await book(client, first_day, range(bookings))
                async with Watcher(url, operator) as watcher:
                    watched = await book(client, first_day, range(bookings, 2 * bookings))
                again = await book(client, first_day, range(2 * bookings, 3 * bookings))
                baseline = (alone + again) / 2
                print(
                    f"booking, {CLIENTS} clients: without a watcher {alone:.0f}/s and "
                    f"{again:.0f}/s (baseline {baseline:.0f}/s); with one watcher {watched:.0f}/s "
                    f"= {watched / baseline:.2f}x the baseline ({watcher.events} events streamed)"
                )
        finally:
            await suite.stop()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [2000, 300][len(args) :])))
