"""A catching-up batch links the traces of its events: read as opentelemetry's propagator does."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.projections import linked_context

TRACE, SPAN = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


@pytest.mark.parametrize(
    "traceparent",
    [
        f"00-{TRACE}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-00",
        f"  00-{TRACE}-{SPAN}-01\t",
        f"01-{TRACE}-{SPAN}-01-future-fields",
        f"00-{TRACE}-{SPAN}-01-extra",  # version 00 has no more fields
        f"ff-{TRACE}-{SPAN}-01",
        f"00-{'0' * 32}-{SPAN}-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"00-{TRACE.upper()}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}",
        f"00-{TRACE}-{SPAN}-01-{'x' * 600}",
        "garbage",
        "",
    ],
)
def test_a_traceparent_links_the_span_the_propagator_reads(traceparent: str) -> None:
    context = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    expected = trace.get_current_span(context).get_span_context()
    assert linked_context(traceparent) == (expected if expected.is_valid else None)
