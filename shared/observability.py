"""Structured logs and traces. Logs are events with fields, JSON, with trace and correlation ids."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider

_configured = False


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
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _trace_ids,
        mask_phi,
        renderer,
    ]


def configure(level: str = "info", json_logs: bool = True) -> None:
    """Set up structlog and an OpenTelemetry tracer provider, once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    logging.basicConfig(stream=sys.stderr, format="%(message)s", level=level.upper())
    structlog.configure(
        processors=log_processors(json_logs),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    configure_tracing()


def configure_tracing() -> None:
    """Install an SDK tracer provider unless the process has one (a test's, an exporter's)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, to travel inside events."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None) -> Any:
    """The trace context an event carried, to continue its trace in a consumer."""
    return propagate.extract({"traceparent": traceparent} if traceparent else {})
