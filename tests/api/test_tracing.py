"""One trace from the HTTP request through the command and the bus to the projections."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.suite import Suite
from tests.api.conftest import booking, register
from tests.support import wait_until

PROJECTIONS = {
    "project scheduling.appointments",
    "project scheduling.provider_schedule",
    "project compliance.audit_log",
}


async def test_the_projections_continue_the_requests_trace(
    client: httpx.AsyncClient, clinic: dict[str, str], spans: InMemorySpanExporter
) -> None:
    await register(client, "pat-1")
    spans.clear()
    response = await client.post("/scheduling/appointments", json=booking(clinic))
    assert response.status_code == 201
    [request_span] = [
        s
        for s in spans.get_finished_spans()
        if s.name == "POST /scheduling/appointments" and s.parent is None
    ]
    trace_id = request_span.context.trace_id

    async def in_trace() -> set[str] | None:
        names = {s.name for s in spans.get_finished_spans() if s.context.trace_id == trace_id}
        return names if PROJECTIONS <= names else None

    names = await wait_until(in_trace, message="projection spans in the request's trace")
    assert names is not None
    assert "command BookAppointment" in names


async def test_a_request_keeps_its_server_span_and_has_none_per_dependency(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    spans.clear()
    response = await client.get("/scheduling/no-show-rates", params={"month": "2000-01"})
    assert response.status_code == 200
    names = [s.name for s in spans.get_finished_spans()]
    [root] = [s for s in spans.get_finished_spans() if s.parent is None]
    assert root.name == "GET /scheduling/no-show-rates"
    # FastAPI's spans around each dependency, the endpoint and serialisation cost more than
    # this route's work (issue 10): the server span and the request shell's stay.
    assert not [name for name in names if name.startswith("fastapi.")], names


async def test_fastapi_sends_no_exception_text_to_opentelemetry_logs(suite: Suite) -> None:
    """An exception's message may quote a request's PHI; our own error line keeps frames only,
    so FastAPI must not hand the text to an OpenTelemetry log provider either."""
    config = suite.app._telemetry  # noqa: SLF001 - FastAPI keeps its telemetry settings there
    assert config.get("logs") is False
