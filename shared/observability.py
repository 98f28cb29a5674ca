"""Structured logs and traces. Logs are events with fields, JSON, with trace and correlation ids."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import Any, TextIO

import structlog
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False
# Where spans go when set (the exporter's own variables); the processor exporting them, once.
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_exporting: list[SpanProcessor] = []

# Repeats of one message let through per interval, before a count of the rest.
REPEAT_LIMIT = 10
REPEAT_INTERVAL = 60.0
# Beyond this many distinct messages in one interval, records pass unlimited (bounded memory).
MAX_REPEAT_KEYS = 1000
# Libraries that give their logger a plain-text handler of its own and stop it propagating.
OWN_HANDLER_LOGGERS = ("faststream",)
# The fields of a "log_repeats_suppressed" record.
_SUMMARY_FIELDS = ("repeated", "suppressed", "seconds")


def _trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


# Keys that hold patient-identifying data wherever they appear in a log event's fields.
PHI_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "given_name",
        "family_name",
        "patient_name",
        "birth_date",
        "date_of_birth",
        "dob",
        "phone",
        "mobile",
        "email",
        "address",
        "street",
        "postal_code",
        "zip",
        "member_id",
        "subscriber_id",
        "ssn",
        "mrn",
        "notes",
        "note",
        "reason_for_visit",
        "answers",
    }
)
MASK = "[phi]"


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if k.lower() in PHI_KEYS else _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


def mask_phi(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask known PHI keys, also inside nested fields, before a line is written."""
    for key, value in list(event.items()):
        if key.lower() in PHI_KEYS:
            event[key] = MASK
        elif isinstance(value, dict | list | tuple):
            event[key] = _mask(value)
    return event


def log_processors(json_logs: bool = True) -> list[Any]:
    """How a log event becomes a line: context (correlation id), level, time, trace ids."""
    return [*_enrich(), *_render(json_logs)]


def _enrich() -> list[Any]:
    """What every event gets, ours and the libraries' alike."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _trace_ids,
        mask_phi,
    ]


def _render(json_logs: bool) -> list[Any]:
    if json_logs:
        # A traceback goes inside the line, as the `exception` field: one event, one line.
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    return [structlog.dev.ConsoleRenderer()]


def json_logs_for(setting: bool | None, stream: TextIO) -> bool:
    """JSON unless the setting says otherwise, or, with no setting, unless a person reads the
    stream (a terminal): then the readable console rendering."""
    if setting is not None:
        return setting
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


class RepeatLimiter:
    """Admits at most `limit` records of one (logger, level, message) per `interval` seconds;
    once an interval that held records back is over, `due` gives one record saying how many.

    Warnings and errors are limited, and the libraries' records of any level: a broker outage
    makes aiokafka repeat "Unable connect to node ..." thousands of times a minute. Our own
    info events pass untouched: they tell what the requests did. The message is the
    unformatted one (`record.msg`), so lines differing only in their arguments (a node id, an
    address) count as one message.
    """

    def __init__(self, limit: int = REPEAT_LIMIT, interval: float = REPEAT_INTERVAL) -> None:
        self.limit = limit
        self.interval = interval
        # (logger, level, message) -> [start of its interval, records seen, records held back]
        self._seen: dict[tuple[str, int, str], list[float]] = {}

    def admit(self, record: logging.LogRecord, now: float) -> bool:
        if isinstance(record.msg, dict) and record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, _message(record))
        window = self._seen.get(key)
        if window is None:
            if len(self._seen) >= MAX_REPEAT_KEYS:
                return True  # memory stays bounded; the next interval limits again
            window = self._seen[key] = [now, 0, 0]
        window[1] += 1
        if window[1] <= self.limit:
            return True
        window[2] += 1
        return False

    def due(self, now: float | None = None) -> list[logging.LogRecord]:
        """End the intervals that are over (every one when `now` is None), with a summary
        record for each that held records back."""
        summaries = []
        for key, (start, _, held) in list(self._seen.items()):
            if now is not None and now - start < self.interval:
                continue
            del self._seen[key]
            if held:
                name, level, message = key
                summary = logging.LogRecord(name, level, "", 0, "log_repeats_suppressed", (), None)
                summary.repeated = message
                summary.suppressed = int(held)
                summary.seconds = self.interval
                summaries.append(summary)
        return summaries


def _message(record: logging.LogRecord) -> str:
    if isinstance(record.msg, dict):
        return str(record.msg.get("event", ""))
    return str(record.msg)


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes every record, structlog's and the libraries' (aiokafka, FastStream, uvicorn,
    asyncio), as one line: JSON or the console rendering; repeats limited by a RepeatLimiter."""

    def __init__(
        self,
        stream: TextIO,
        json_logs: bool,
        limiter: RepeatLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(stream)
        self.limiter = limiter if limiter is not None else RepeatLimiter()
        self._clock = clock
        self.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=[
                    structlog.stdlib.add_logger_name,
                    structlog.stdlib.ExtraAdder(_SUMMARY_FIELDS),
                    *_enrich(),
                ],
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *_render(json_logs),
                ],
            )
        )

    def handle(self, record: logging.LogRecord) -> bool:
        with self.lock or contextlib.nullcontext():
            now = self._clock()
            for summary in self.limiter.due(now):
                super().handle(summary)
            if not self.limiter.admit(record, now):
                return False
            return super().handle(record)

    def close(self) -> None:
        with self.lock or contextlib.nullcontext():
            for summary in self.limiter.due():
                super().handle(summary)
        super().close()


def configure_logging(
    level: str = "info",
    json_logs: bool | None = None,
    stream: TextIO | None = None,
    *,
    cache_loggers: bool = True,
) -> LineHandler:
    """Route structlog and the standard library's logging through one handler on `stream`
    (stderr by default) and return it; it replaces the root logger's handlers. `json_logs`
    None: JSON unless `stream` is a terminal. Tests pass `cache_loggers=False`, so that no
    logger keeps this configuration once they restore structlog's defaults."""
    stream = stream if stream is not None else sys.stderr
    handler = LineHandler(stream, json_logs_for(json_logs, stream))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)
    import faststream  # noqa: F401 - its import gives its logger a handler, taken back below

    for name in OWN_HANDLER_LOGGERS:
        library = logging.getLogger(name)
        for own in list(library.handlers):
            library.removeHandler(own)
        library.propagate = True
        library.setLevel(logging.NOTSET)
    structlog.configure(
        # Ours go through the standard library too, to the one handler, as events with fields.
        processors=[
            structlog.stdlib.add_logger_name,
            *_enrich(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=cache_loggers,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler


def configure(level: str = "info", json_logs: bool | None = None) -> None:
    """Set up logging and an OpenTelemetry tracer provider, once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    configure_logging(level, json_logs)
    configure_tracing()


def configure_tracing() -> None:
    """Install an SDK tracer provider unless the process has one (a test's), named by
    OTEL_SERVICE_NAME (else "medoffice"); and, when OTEL_EXPORTER_OTLP_ENDPOINT (or
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, export its spans there, once per process."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        name = os.environ.get("OTEL_SERVICE_NAME") or "medoffice"
        trace.set_tracer_provider(TracerProvider(resource=Resource.create({SERVICE_NAME: name})))
    if not _exporting and any(os.environ.get(v) for v in OTLP_ENDPOINT_VARIABLES):
        _exporting.append(export_spans())


def export_spans() -> SpanProcessor:
    """Send the process's spans over OTLP/HTTP (protobuf), in batches, where the
    OTEL_EXPORTER_OTLP_* variables say (endpoint, headers, timeout, compression): the
    exporter reads them itself. The tracer provider flushes them when the process exits."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        raise RuntimeError("no SDK tracer provider to export from: configure_tracing() first")
    processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(processor)
    return processor


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, to travel inside events."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None) -> Any:
    """The trace context an event carried, to continue its trace in a consumer."""
    return propagate.extract({"traceparent": traceparent} if traceparent else {})
