"""Fixtures shared by every test layer.

Integration and contract tests use the real Kafka and MongoDB-wire servers named by
MEDOFFICE_KAFKA_BOOTSTRAP and MEDOFFICE_MONGO_URL (`make test` starts them when unset).
A test that needs them fails, never skips, when they are missing.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.settings import Settings
from tests.support import suite_settings

# The HL7 FHIR validator's session fixture (`hl7_validator`), for the FHIR tests.
pytest_plugins = ("tests.fhir_validation",)


@pytest.fixture(scope="session", autouse=True)
def spans() -> InMemorySpanExporter:
    """Every span the tests make, kept in memory: the process's tracer provider."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture(scope="session")
def mongo_url() -> str:
    url = os.environ.get("MEDOFFICE_MONGO_URL")
    if not url:
        pytest.fail("MEDOFFICE_MONGO_URL is not set: run the tests with `make test`")
    return url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    servers = os.environ.get("MEDOFFICE_KAFKA_BOOTSTRAP")
    if not servers:
        pytest.fail("MEDOFFICE_KAFKA_BOOTSTRAP is not set: run the tests with `make test`")
    return servers


@pytest.fixture
def unique() -> str:
    """A name no other test uses: for databases, topic namespaces and consumer groups."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture(params=["embedded", pytest.param("scale-out", marks=pytest.mark.integration)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, unique: str) -> Settings:
    """Suite settings for one test, on each backend. The environment's servers are used only
    by the scale-out variant, with a database and topics of the test's own."""
    if request.param == "embedded":
        return suite_settings(tmp_path)
    return suite_settings(
        tmp_path,
        request.getfixturevalue("kafka_bootstrap"),
        request.getfixturevalue("mongo_url"),
        namespace=unique,
    )


def pytest_configure(config: pytest.Config) -> None:
    """PyMongo's async client now and then leaves one socket to the server for the garbage
    collector when a client closes while its monitor connects (PYTHON-3923, open upstream): the
    ResourceWarning would fail whichever later test the collector runs in. Forgiven for sockets
    to the test MongoDB's own port only: any other unclosed socket (Kafka, HTTP) still fails."""
    url = os.environ.get("MEDOFFICE_MONGO_URL")
    if not url:
        return
    from pymongo import uri_parser

    for host, port in uri_parser.parse_uri(url)["nodelist"]:
        config.addinivalue_line(
            "filterwarnings",
            "ignore:Exception ignored in. <socket.socket .*raddr=\\('"
            + host.replace(".", "\\.")
            + f"', {port}\\)>:pytest.PytestUnraisableExceptionWarning",
        )


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """The test starting, in the file infra/with-infra.sh names: a run that dies by a signal
    reports nothing itself, and with-infra.sh then prints where it was."""
    path = os.environ.get("MEDOFFICE_TEST_RUNNING_FILE")
    if path:
        Path(path).write_text(nodeid)
