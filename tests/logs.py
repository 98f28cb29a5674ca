"""Logging set up as `medoffice serve` does, for a test, and put back afterwards."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any, TextIO

import structlog

from shared.observability import OWN_HANDLER_LOGGERS, LineHandler, configure_logging


@contextlib.contextmanager
def configured_logging(stream: TextIO) -> Iterator[LineHandler]:
    """Every record of the process to `stream` (JSON or not decided by the stream), then the
    root logger's handlers and structlog's defaults as the tests had them."""
    loggers = [logging.getLogger(), *map(logging.getLogger, OWN_HANDLER_LOGGERS)]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    handler = configure_logging("info", None, stream, cache_loggers=False)
    try:
        yield handler
    finally:
        handler.close()
        for logger, handlers, level, propagate in saved:
            for current in list(logger.handlers):
                logger.removeHandler(current)
            for old in handlers:
                logger.addHandler(old)
            logger.setLevel(level)
            logger.propagate = propagate
        logging.captureWarnings(False)
        structlog.reset_defaults()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Each line parsed as a JSON object; fails on any line that is not one."""
    parsed = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(line, dict) for line in parsed)
    return parsed
