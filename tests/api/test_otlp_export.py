"""Traces leave the process over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set: a collector
on loopback receives the request's spans, decoded with the exporter's own protobuf messages."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared import observability
from shared.observability import configure_tracing, export_spans
from tests.api.conftest import register


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver on loopback: what was posted where, decoded."""

    url: str
    received: list[tuple[str, str, ExportTraceServiceRequest]] = field(default_factory=list)

    def span_names(self) -> set[str]:
        return {
            span.name
            for _, _, request in self.received
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        }


@pytest.fixture
def collector() -> Iterator[Collector]:
    found: list[tuple[str, str, ExportTraceServiceRequest]] = []

    class Receive(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            found.append((self.path, self.headers.get("Content-Type", ""), request))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Collector(f"http://127.0.0.1:{server.server_address[1]}", found)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_a_requests_spans_reach_the_otlp_collector_named_by_route(
    client: httpx.AsyncClient, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    processor = export_spans()
    try:
        await register(client, "pat-otlp")
        # Found, or not yet in the read model: the route took it either way.
        response = await client.get("/scheduling/patients/pat-otlp")
        assert response.status_code in (200, 404), response.text
        assert await asyncio.to_thread(processor.force_flush, 30_000)
    finally:
        await asyncio.to_thread(processor.shutdown)

    assert {path for path, _, _ in collector.received} == {"/v1/traces"}
    assert {kind for _, kind, _ in collector.received} == {"application/x-protobuf"}
    names = collector.span_names()
    assert "POST /scheduling/patients" in names
    assert "GET /scheduling/patients/{patient_id}" in names
    assert "command RegisterPatient" in names
    assert not [n for n in names if "pat-otlp" in n]  # a path's ids never name a span


def test_tracing_exports_once_per_process_when_the_endpoint_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert observability._exporting == []  # noqa: SLF001 - the process's one exporter
    configure_tracing()
    assert observability._exporting == []  # noqa: SLF001 - nothing set: nothing exported
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    try:
        configure_tracing()
        configure_tracing()
        assert len(observability._exporting) == 1  # noqa: SLF001
    finally:
        for processor in observability._exporting:  # noqa: SLF001
            processor.shutdown()
        observability._exporting.clear()  # noqa: SLF001
