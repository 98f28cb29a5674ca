"""Starting an aiokafka client (or a FastStream subscriber, which starts one) so that a cancel
or a timeout never leaves a socket open.

aiokafka 0.14's bootstrap opens a connection, then asks it for the cluster's metadata; a cancel
landing in that wait (a rebuild cancelled as it subscribes, an `asyncio.timeout` around a start)
unwinds past the connection without closing it, and no `stop()` can reach it afterwards: it
stays open until the garbage collector finds it ("Unclosed AIOKafkaConnection"). So a start is
never cancelled here: it runs in a task of its own, and a caller cancelled meanwhile waits for it
to end (its requests are bounded by the client's request timeout; `bound` caps the wait), stops
what it started, and is then cancelled still (an `asyncio.timeout` around it fires as usual).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any


async def start_whole(
    start: Coroutine[Any, Any, None], stop: Callable[[], Awaitable[None]], bound: float
) -> None:
    """Await `start` to its end even when cancelled meanwhile; then, if cancelled, `stop()`."""
    starting = asyncio.ensure_future(start)
    try:
        await asyncio.shield(starting)
    except asyncio.CancelledError:
        # Cleaning up is a task of its own too: a second cancel does not cut it short either.
        cleaning = asyncio.ensure_future(_end_then_stop(starting, stop, bound))
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(cleaning)
        raise


async def _end_then_stop(
    starting: asyncio.Future[None], stop: Callable[[], Awaitable[None]], bound: float
) -> None:
    await asyncio.wait({starting}, timeout=bound)
    if not starting.done():  # past the bound: cut short after all, at the risk of one socket
        starting.cancel()
    with contextlib.suppress(BaseException):
        await starting
    with contextlib.suppress(Exception):
        await stop()


async def close_all(*closes: Callable[[], Awaitable[None]]) -> None:
    """Call every close, even when one before it failed; then raise the first failure."""
    failures: list[BaseException] = []
    for close in closes:
        try:
            await close()
        except Exception as exc:  # noqa: BLE001 - raised below, once every close was called
            failures.append(exc)
    if failures:
        raise failures[0]
