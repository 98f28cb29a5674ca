"""Log lines are events with fields, carrying the trace and correlation ids: one JSON object
per line, the libraries' lines too, with repeats limited; readable lines on a terminal."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
from typing import Any

import pytest
import structlog
from opentelemetry import trace

from shared.observability import (
    LineHandler,
    RepeatLimiter,
    json_logs_for,
    log_processors,
)
from shared.settings import Settings
from tests.logs import configured_logging, json_lines


def render(event: dict[str, Any]) -> dict[str, Any]:
    rendered: Any = event
    for processor in log_processors(json_logs=True):
        rendered = processor(None, "info", rendered)
    assert isinstance(rendered, str)
    line: dict[str, Any] = json.loads(rendered)
    return line


def test_a_log_line_carries_the_correlation_and_trace_ids() -> None:
    structlog.contextvars.bind_contextvars(correlation_id="req-7")
    try:
        with trace.get_tracer("test").start_as_current_span("work") as span:
            line = render({"event": "appointment_booked", "appointment_id": "a1"})
            trace_id = format(span.get_span_context().trace_id, "032x")
    finally:
        structlog.contextvars.unbind_contextvars("correlation_id")

    assert line["event"] == "appointment_booked"
    assert line["appointment_id"] == "a1"
    assert line["correlation_id"] == "req-7"
    assert line["trace_id"] == trace_id
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")


def test_phi_keys_are_masked_wherever_they_appear() -> None:
    line = render(
        {
            "event": "patient_registered",
            "patient_id": "pat-9",
            "name": "Zebulon Quarrington",
            "details": {"birth_date": "1961-02-03", "phone": "+1 555 0199", "site": "north"},
            "contacts": [{"email": "zq@example.org"}],
        }
    )
    text = json.dumps(line)
    for secret in ("Zebulon", "1961-02-03", "555 0199", "zq@example.org"):
        assert secret not in text
    assert line["patient_id"] == "pat-9"
    assert line["details"]["site"] == "north"
    assert line["name"] == "[phi]"


# One line per record, for the libraries too, and repeats limited.


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def library_logger(name: str, handler: logging.Handler) -> logging.Logger:
    """A logger of that name outside the logging tree: the test's handler is its only one."""
    logger = logging.Logger(name, logging.DEBUG)
    logger.addHandler(handler)
    return logger


def test_a_flood_of_one_library_warning_is_cut_to_a_few_json_lines_and_a_count() -> None:
    out, clock = io.StringIO(), Clock()
    handler = LineHandler(
        out, json_logs=True, limiter=RepeatLimiter(limit=5, interval=60), clock=clock
    )
    aiokafka = library_logger("aiokafka", handler)
    fetcher = library_logger("aiokafka.consumer.fetcher", handler)

    for attempt in range(5000):
        aiokafka.error("Unable connect to node with id %s: %s", 1, f"[Errno 111] try {attempt}")
        fetcher.error("Failed fetch messages from %s: %s", 1, "NodeNotReadyError")
        clock.now += 0.002  # 10 s of outage in all
    aiokafka.warning("Marking the coordinator dead (node %s)", 1)

    lines = json_lines(out.getvalue())
    assert len(lines) == 5 + 5 + 1
    assert {line["logger"] for line in lines} == {"aiokafka", "aiokafka.consumer.fetcher"}
    assert all({"level", "logger", "timestamp", "event"} <= line.keys() for line in lines)
    assert lines[0]["event"] == "Unable connect to node with id 1: [Errno 111] try 0"
    assert lines[0]["level"] == "error"

    clock.now += 60  # the interval is over: the next line comes with the counts
    aiokafka.error("Unable connect to node with id %s: %s", 1, "[Errno 111] again")
    lines = json_lines(out.getvalue())[11:]
    summaries = {
        line["logger"]: line for line in lines if line["event"] == "log_repeats_suppressed"
    }
    assert summaries["aiokafka"]["suppressed"] == 4995
    assert summaries["aiokafka"]["repeated"] == "Unable connect to node with id %s: %s"
    assert summaries["aiokafka"]["level"] == "error"
    assert summaries["aiokafka.consumer.fetcher"]["suppressed"] == 4995
    assert lines[-1]["event"] == "Unable connect to node with id 1: [Errno 111] again"
    assert len(lines) == 3


def test_what_is_held_back_is_counted_when_the_handler_closes() -> None:
    out = io.StringIO()
    handler = LineHandler(out, json_logs=True, limiter=RepeatLimiter(limit=2, interval=60))
    asyncio_log = library_logger("asyncio", handler)
    for _ in range(10):
        asyncio_log.warning("Executing %s took %.3f seconds", "<Task>", 0.2)

    handler.close()

    lines = json_lines(out.getvalue())
    assert [line["event"] for line in lines] == ["Executing <Task> took 0.200 seconds"] * 2 + [
        "log_repeats_suppressed"
    ]
    assert lines[-1]["suppressed"] == 8


def test_our_own_info_events_are_never_held_back() -> None:
    out = io.StringIO()
    with configured_logging(out) as _:
        log = structlog.get_logger("services.scheduling")
        for n in range(50):
            log.info("appointment_booked", appointment_id=f"a{n}")

    lines = json_lines(out.getvalue())
    assert [line["appointment_id"] for line in lines] == [f"a{n}" for n in range(50)]
    assert lines[0]["logger"] == "services.scheduling"


def test_every_library_line_goes_out_as_json_with_level_logger_and_time() -> None:
    out = io.StringIO()
    with configured_logging(out):
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
        logging.getLogger("faststream").warning("Consumer %s assigned", "c-1")
        logging.getLogger("asyncio").error("Task exception was never retrieved")
        structlog.get_logger("shared.bus.kafka").warning("consumer_commit_failed", group="g")

    lines = json_lines(out.getvalue())
    assert [(line["logger"], line["level"], line["event"]) for line in lines] == [
        ("uvicorn.error", "info", "Started server process [42]"),
        ("faststream", "warning", "Consumer c-1 assigned"),
        ("asyncio", "error", "Task exception was never retrieved"),
        ("shared.bus.kafka", "warning", "consumer_commit_failed"),
    ]
    assert lines[-1]["group"] == "g"
    assert all(line["timestamp"].endswith("Z") for line in lines)


def test_an_exception_is_rendered_inside_its_one_json_line() -> None:
    out = io.StringIO()
    with configured_logging(out):
        try:
            raise ValueError("year 0 is out of range")
        except ValueError:
            structlog.get_logger("shared.http.app").exception("request_failed", status=500)
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    for line in json_lines(out.getvalue()):
        assert line["level"] == "error"
        assert "Traceback (most recent call last)" in line["exception"]
        assert "ValueError: year 0 is out of range" in line["exception"]


# JSON for machines, the console rendering for a person at a terminal.


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_logs_are_json_unless_a_terminal_reads_them_or_the_setting_says() -> None:
    assert json_logs_for(None, Stream(tty=False)) is True
    assert json_logs_for(None, Stream(tty=True)) is False
    assert json_logs_for(True, Stream(tty=True)) is True
    assert json_logs_for(False, Stream(tty=False)) is False


def test_the_setting_is_unset_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MEDOFFICE_LOG_JSON", raising=False)
    assert Settings().log_json is None
    monkeypatch.setenv("MEDOFFICE_LOG_JSON", "true")
    assert Settings().log_json is True
    monkeypatch.setenv("MEDOFFICE_LOG_JSON", "false")
    assert Settings().log_json is False


def test_a_terminal_gets_readable_lines_and_a_pipe_gets_json() -> None:
    primary, secondary = pty.openpty()
    with open(secondary, "w", closefd=True) as terminal, configured_logging(terminal):
        structlog.get_logger("services.cli").info("medoffice_serving", backend="SQLite")
        logging.getLogger("uvicorn.error").info("Uvicorn running")
    try:
        written = read_all(primary)
    finally:
        os.close(primary)

    assert "medoffice_serving" in written
    assert "Uvicorn running" in written
    for line in written.splitlines():
        assert not line.lstrip().startswith("{")

    pipe = io.StringIO()
    with configured_logging(pipe):
        structlog.get_logger("services.cli").info("medoffice_serving", backend="SQLite")
    assert json_lines(pipe.getvalue())[0]["backend"] == "SQLite"


def read_all(primary: int) -> str:
    """What was written to a terminal whose other end is closed: read until EOF (EIO)."""
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()
