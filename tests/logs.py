"""Logging set up as `medoffice serve` does, for a test, and put back afterwards."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any, TextIO

import structlog

from shared.observability import LineHandler, configure_logging


@contextlib.contextmanager
def configured_logging(stream: TextIO) -> Iterator[LineHandler]:
    """Every record of the process to `stream` (JSON or not decided by the stream), then the
    root logger's handlers and structlog's defaults as the tests had them."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    handler = configure_logging("info", None, stream, cache_loggers=False)
    try:
        yield handler
    finally:
        handler.close()
        root.removeHandler(handler)
        for old in handlers:
            root.addHandler(old)
        root.setLevel(level)
        logging.captureWarnings(False)
        structlog.reset_defaults()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Each line parsed as a JSON object; fails on any line that is not one."""
    parsed = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(line, dict) for line in parsed)
    return parsed
