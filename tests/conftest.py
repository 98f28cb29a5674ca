"""Fixtures shared by every test layer.

Integration and contract tests use the real Kafka and MongoDB-wire servers named by
MEDOFFICE_KAFKA_BOOTSTRAP and MEDOFFICE_MONGO_URL (`make test` starts them when unset).
A test that needs them fails, never skips, when they are missing.
"""

from __future__ import annotations

import os
import uuid

import pytest


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
