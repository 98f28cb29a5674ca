"""Staffing's credential sweep on the service layer: each expiry reminder is recorded once per
credential, threshold and expiry date, whether two processes sweep at once or one sweeps again
after a restart; renewals start the reminders again, revocations stop them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.staffing import app as staffing
from services.staffing.application.credentials import Credentials, CredentialSweepTimer
from services.staffing.domain import streams
from services.staffing.domain.events import (
    CredentialExpiryReminded,
    EmployeeHired,
    EmployeeTerminated,
    registry,
)
from services.staffing.projections import credentials as view
from shared.backends import Backends, open_backends
from shared.clock import UuidIds
from shared.commands import CommandHandler
from shared.domain import Decider, NotFound
from shared.events import DomainEvent, Envelope
from shared.eventstore.port import EventStore
from shared.kit import Assembled, assemble_parts
from tests.service.conftest import META
from tests.support import TestRunClock, suite_settings, wait_until

TODAY = date(2026, 11, 26)  # the test run's clock (TEST_EPOCH)
Built = Assembled[staffing.UseCases]

# Appends the event it is given: how these tests put an employee's hire on their stream (the
# employees area decides hires; this area only reads them).
RECORD: Decider[None, DomainEvent] = Decider(None, lambda s, e: s, lambda s, c: [c])


async def hire(
    handler: CommandHandler, employee_id: str, sites: Sequence[str] = ("north",)
) -> None:
    event = EmployeeHired(
        employee_id=employee_id,
        name=f"Dr {employee_id}",
        title="Physician",
        role="physician",
        site_ids=tuple(sites),
        fte=1.0,
        hired_on=date(2020, 1, 1),
    )
    await handler.handle(streams.employee("acme", employee_id), RECORD, event, META)


async def licence(credentials: Credentials, credential_id: str, expires_on: date) -> None:
    await credentials.record(
        META,
        credential_id=credential_id,
        employee_id="dr-a",
        kind="state_licence",
        issuer="NY State Education Department",
        number=credential_id.upper(),
        state="NY",
        issued_on=date(2024, 1, 1),
        expires_on=expires_on,
    )


async def reminders(store: EventStore, credential_id: str) -> list[CredentialExpiryReminded]:
    envelopes = await store.load(streams.credential("acme", credential_id))
    decoded = [registry.decode(e) for e in envelopes]
    return [e for e in decoded if isinstance(e, CredentialExpiryReminded)]


async def settled(built: Built, credential_id: str, version: int) -> None:
    """Until the credentials read model has seen the credential's stream up to `version`."""

    async def seen() -> bool:
        doc = await built.kit.read_models.get(
            view.PROJECTION, view.CREDENTIALS, view.doc_id("acme", credential_id)
        )
        return (
            doc is not None and doc["_seen"].get(f"acme:credential:{credential_id}", 0) >= version
        )

    await wait_until(seen, message=f"{credential_id} at version {version} in the read model")


async def doc(built: Built, credential_id: str) -> dict[str, Any]:
    found = await built.kit.read_models.get(
        view.PROJECTION, view.CREDENTIALS, view.doc_id("acme", credential_id)
    )
    assert found is not None
    return found


# Expiring in 10, 45 and 80 days, and expired 3 days ago: one reminder each is due today.
DUE = {"lic-10": 30, "lic-45": 60, "lic-80": 90, "lic-gone": 0}
EXPIRY = {
    "lic-10": TODAY + timedelta(days=10),
    "lic-45": TODAY + timedelta(days=45),
    "lic-80": TODAY + timedelta(days=80),
    "lic-gone": TODAY - timedelta(days=3),
    "lic-far": TODAY + timedelta(days=200),  # nothing due
}


async def record_all(built: Built) -> None:
    await hire(built.kit.handler, "dr-a")
    for credential_id, expires_on in EXPIRY.items():
        await licence(built.use_cases.credentials, credential_id, expires_on)
    for credential_id in EXPIRY:
        await settled(built, credential_id, 1)


async def test_the_sweep_records_the_tightest_reminder_due_and_the_read_model_moves_on(
    staffing_service: Built,
) -> None:
    await record_all(staffing_service)
    credentials = staffing_service.use_cases.credentials
    assert await credentials.sweep() == len(DUE)
    store = staffing_service.kit.store
    for credential_id, threshold in DUE.items():
        (reminder,) = await reminders(store, credential_id)
        assert (reminder.threshold_days, reminder.reminded_on) == (threshold, TODAY)
        await settled(staffing_service, credential_id, 2)
    assert await reminders(store, "lic-far") == []
    assert (await doc(staffing_service, "lic-80"))["next_reminder_on"] == (
        EXPIRY["lic-80"] - timedelta(days=60)
    ).isoformat()
    assert (await doc(staffing_service, "lic-gone"))["next_reminder_on"] is None
    assert await credentials.sweep() == 0  # the same day again: nothing more


async def test_the_next_thresholds_fire_as_days_pass_a_renewal_restarts_and_a_revocation_stops(
    backends: Backends,
) -> None:
    clock = TestRunClock()
    built = await assemble_parts(staffing.SPEC, backends, clock, UuidIds())
    await built.service.start()
    try:
        await hire(built.kit.handler, "dr-a")
        credentials = built.use_cases.credentials
        await licence(credentials, "lic-1", TODAY + timedelta(days=80))
        await licence(credentials, "lic-2", TODAY + timedelta(days=80))
        await settled(built, "lic-2", 1)
        assert await credentials.sweep() == 2  # the 90-day reminders
        await settled(built, "lic-1", 2)
        await settled(built, "lic-2", 2)

        clock.shift = timedelta(days=20)  # 60 days left
        await credentials.revoke(META, "lic-2", effective_on=TODAY, reason="board action")
        await settled(built, "lic-2", 3)
        assert await credentials.sweep() == 1
        assert [r.threshold_days for r in await reminders(built.kit.store, "lic-1")] == [90, 60]
        assert [r.threshold_days for r in await reminders(built.kit.store, "lic-2")] == [90]

        renewed = await credentials.renew(META, "lic-1", TODAY + timedelta(days=800))
        await settled(built, "lic-1", renewed.stream_version)
        clock.shift = timedelta(days=800 - 90)  # 90 days before the new last day
        assert await credentials.sweep() == 1
        (*_, latest) = await reminders(built.kit.store, "lic-1")
        assert (latest.threshold_days, latest.expires_on) == (90, TODAY + timedelta(days=800))
    finally:
        await built.service.stop()


async def test_no_reminders_for_someone_who_left(staffing_service: Built) -> None:
    await record_all(staffing_service)
    gone = EmployeeTerminated(employee_id="dr-a", last_day=TODAY, reason="moved away")
    handler = staffing_service.kit.handler
    await handler.handle(streams.employee("acme", "dr-a"), RECORD, gone, META)

    async def left() -> bool:
        holder = await staffing_service.use_cases.credentials.holder("acme", "dr-a")
        return holder is not None and not holder["employed"]

    await wait_until(left, message="the termination in the read model")
    assert await staffing_service.use_cases.credentials.sweep() == 0


async def test_a_credential_of_an_unknown_employee_is_not_recorded(staffing_service: Built) -> None:
    with pytest.raises(NotFound, match="employee"):
        await licence(staffing_service.use_cases.credentials, "lic-1", TODAY)
    assert await staffing_service.kit.store.version(streams.credential("acme", "lic-1")) == 0


# ---------------------------------------------------------------- once across processes


class Gated:
    """An event store whose first append waits until the other handler's first append is
    ready too: both have decided on the same state, so exactly one append can win."""

    def __init__(self, store: EventStore, gate: asyncio.Barrier) -> None:
        self._store = store
        self._gate = gate
        self._waited = False
        self.conflicts = 0

    async def append(
        self, stream: str, envelopes: Sequence[Envelope], expected: int, **kw: Any
    ) -> Any:
        if not self._waited:
            self._waited = True
            await self._gate.wait()
        try:
            return await self._store.append(stream, envelopes, expected, **kw)
        except Exception:
            self.conflicts += 1
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_two_handlers_deciding_the_same_reminder_at_once_record_it_once(
    staffing_service: Built,
) -> None:
    await hire(staffing_service.kit.handler, "dr-a")
    await licence(staffing_service.use_cases.credentials, "lic-1", TODAY + timedelta(days=10))
    kit, gate = staffing_service.kit, asyncio.Barrier(2)
    stores = [Gated(kit.store, gate), Gated(kit.store, gate)]
    sweepers = [
        Credentials(
            CommandHandler(store, registry, kit.clock, kit.ids),  # type: ignore[arg-type]
            kit.read_models,
        )
        for store in stores
    ]
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(s.remind(META, "lic-1", TODAY) for s in sweepers)), timeout=10
    )
    assert sorted(len(o.events) for o in outcomes) == [0, 1]
    assert sum(s.conflicts for s in stores) == 1  # the loser conflicted, reloaded, saw it
    assert [r.threshold_days for r in await reminders(kit.store, "lic-1")] == [30]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@contextlib.asynccontextmanager
async def process(data_dir: Path) -> AsyncIterator[Built]:
    """A staffing process of its own on the file-backed embedded backends in `data_dir`."""
    backends = await open_backends(suite_settings(data_dir))
    built = await assemble_parts(staffing.SPEC, backends, TestRunClock(), UuidIds())
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()
        await backends.close()


async def test_two_processes_sweeping_at_once_record_each_reminder_once(data_dir: Path) -> None:
    async with process(data_dir) as one, process(data_dir) as two:
        await record_all(one)
        await settled(two, "lic-far", 1)  # the same read model, through the other process
        counts = await asyncio.gather(
            one.use_cases.credentials.sweep(), two.use_cases.credentials.sweep()
        )
        assert sum(counts) == len(DUE)
        for credential_id, threshold in DUE.items():
            found = await reminders(one.kit.store, credential_id)
            assert [r.threshold_days for r in found] == [threshold]


async def test_a_sweep_after_a_restart_records_nothing_again(data_dir: Path) -> None:
    async with process(data_dir) as built:
        await record_all(built)
        assert await built.use_cases.credentials.sweep() == len(DUE)

    async with process(data_dir) as built:
        credentials = built.use_cases.credentials
        assert await credentials.sweep() == 0
        # Asked directly, bypassing the read model: the stream remembers what fired.
        for credential_id in DUE:
            assert (await credentials.remind(META, credential_id, TODAY)).events == ()
            assert len(await reminders(built.kit.store, credential_id)) == 1


async def test_the_service_runs_the_sweep_as_a_timer(staffing_service: Built) -> None:
    """The timer staffing declares is the sweep: started, it records what is due."""
    [timer] = [w for w in staffing_service.service.workers if isinstance(w, CredentialSweepTimer)]
    await record_all(staffing_service)
    again = CredentialSweepTimer(staffing_service.use_cases.credentials, every=0.05)
    await again.start()
    try:

        async def reminded() -> bool:
            found = [await reminders(staffing_service.kit.store, c) for c in DUE]
            return all(len(r) == 1 for r in found)

        await wait_until(reminded, message="the timer's reminders")
    finally:
        await again.stop()
    assert timer.running
