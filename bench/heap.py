"""Keeping a benchmark's long-lived objects out of the garbage collector's walks.

A full collection walks every tracked object. A served process keeps what it built to start
out of those walks (`services/cli.py` `_settle_heap`); a benchmark that builds the suite in its
own process, and holds fixtures no served process would (planned groups, envelopes kept for a
raw baseline), would otherwise pay for walking them on every full collection, at whatever
request or event tripped it (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def fixtures_frozen() -> Iterator[None]:
    """Everything alive now kept out of the collector's walks until the block ends, for ours
    and the raw path alike: a collection, then `gc.freeze()`; thawed after."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
