"""Log lines are JSON events with fields, carrying the trace and correlation ids."""

from __future__ import annotations

import json
from typing import Any

import structlog
from opentelemetry import trace

from shared.observability import log_processors


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
