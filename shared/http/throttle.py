"""Limits for routes anyone may call (no bearer token: a signed link is their authority):
requests per client address and the size of a body, refused before any work is done.

The count is per process (each replica counts its own callers), in a sliding window; the
addresses remembered are bounded, the least recently seen forgotten first. Behind a proxy the
address is the proxy's unless the server is told to trust its forwarded headers (uvicorn's
`--forwarded-allow-ips`).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi import HTTPException, Request

MAX_ADDRESSES = 10_000


class Throttle:
    """A FastAPI dependency: 429 (with Retry-After) for an address past `limit` requests in
    the last `window` seconds."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        remember: int = MAX_ADDRESSES,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a throttle admits at least one request in a positive window")
        self._limit, self._window, self._clock, self._remember = limit, window, clock, remember
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def admit(self, address: str) -> float | None:
        """None when admitted (and counted); else the seconds until one more would be."""
        now = self._clock()
        hits = self._seen.pop(address, None) or deque()
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        self._seen[address] = hits  # the most recently seen last
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        if len(hits) >= self._limit:
            return hits[0] + self._window - now
        hits.append(now)
        return None

    async def __call__(self, request: Request) -> None:
        wait = self.admit(request.client.host if request.client else "unknown")
        if wait is not None:
            raise HTTPException(
                429,
                "too many requests from this address; try again shortly",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )


class BodyLimit:
    """A FastAPI dependency: 413 for a body declared (Content-Length) larger than `max_bytes`,
    or, sent without a length (chunked), found larger once read: before any work is done."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes

    async def __call__(self, request: Request) -> None:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max):
            raise HTTPException(413, f"a request body here is at most {self._max} bytes")
        if declared is None and len(await request.body()) > self._max:
            raise HTTPException(413, f"a request body here is at most {self._max} bytes")
