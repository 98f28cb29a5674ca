"""A service built for a test as `medoffice serve` builds it, but on SQLite `:memory:` stores
and the in-process bus: its use cases are called directly, its projections and consumers run.
Nothing touches the disk; a test takes milliseconds, not a whole suite behind HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.billing import app as billing
from services.compliance import app as compliance
from services.engagement import app as engagement
from services.finance import app as finance
from services.scheduling import app as scheduling
from services.staffing import app as staffing
from shared.backends import Backends, open_in_memory
from shared.clock import UuidIds
from shared.events import Metadata
from shared.kit import Assembled, assemble_parts
from shared.settings import Settings
from tests.support import TestRunClock, suite_settings

META = Metadata(tenant="acme", actor="tester", correlation_id="service-test")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return suite_settings(tmp_path / "never-written")


@pytest.fixture
async def backends(settings: Settings) -> AsyncIterator[Backends]:
    backends = await open_in_memory(settings)
    try:
        yield backends
    finally:
        await backends.close()
    assert not settings.data_dir.exists()  # every store was in memory


@pytest.fixture
async def scheduling_service(
    backends: Backends,
) -> AsyncIterator[Assembled[scheduling.UseCases]]:
    built = await assemble_parts(scheduling.SPEC, backends, TestRunClock(), UuidIds())
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()


@pytest.fixture
async def staffing_service(
    backends: Backends,
) -> AsyncIterator[Assembled[staffing.UseCases]]:
    built = await assemble_parts(staffing.SPEC, backends, TestRunClock(), UuidIds())
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()


@pytest.fixture
async def billing_service(
    backends: Backends,
) -> AsyncIterator[Assembled[billing.UseCases]]:
    built = await assemble_parts(billing.SPEC, backends, TestRunClock(), UuidIds())
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()


@pytest.fixture
async def finance_service(
    backends: Backends,
) -> AsyncIterator[Assembled[finance.UseCases]]:
    built = await assemble_parts(finance.SPEC, backends, TestRunClock(), UuidIds())
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()


@pytest.fixture
async def engagement_service(
    backends: Backends, scheduling_service: Assembled[Any]
) -> AsyncIterator[Assembled[engagement.UseCases]]:
    """Engagement, beside scheduling on the same bus: it learns sites and patients from it."""
    built = await assemble_parts(engagement.SPEC, backends, TestRunClock(), UuidIds())
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()


@pytest.fixture
async def compliance_service(
    backends: Backends, scheduling_service: Assembled[Any]
) -> AsyncIterator[Assembled[compliance.UseCases]]:
    """The auditor, beside scheduling on the same bus, reading scheduling's store."""
    producers = {"scheduling": scheduling_service.kit.store}
    built = await assemble_parts(compliance.SPEC, backends, TestRunClock(), UuidIds(), producers)
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()
