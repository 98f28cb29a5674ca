"""Billing learns patients from scheduling and providers from staffing, on the service layer:
the three services on one in-process bus and one key vault, their use cases called directly.

Sealed PHI is copied sealed (the raw store holds no plaintext), a fact is recorded once however
often it is delivered or however many handlers race for it, facts out of order end right, and
a forgotten patient's copies in billing read `[redacted]`."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from services.billing.app import SPEC
from services.billing.app import UseCases as Billing
from services.billing.application.learning import Learning
from services.billing.domain import learning, streams
from services.billing.domain.events import CoverageLearnt, PatientLearnt
from services.billing.projections import learnt as view
from services.scheduling.app import UseCases as Scheduling
from services.scheduling.domain import streams as scheduling_streams
from services.staffing.app import UseCases as Staffing
from services.staffing.domain import streams as staffing_streams
from services.staffing.domain.employees import Hire, Job, ProviderDetails
from shared.commands import CommandHandler
from shared.events import DomainEvent, Envelope
from shared.eventstore.port import ConcurrencyConflict, EventStore
from shared.kit import Assembled
from shared.phi import Sealed
from shared.phivault import REDACTED
from shared.readmodels import public
from tests.service.conftest import META
from tests.support import wait_until

COVERAGE: dict[str, Any] = {
    "patient_id": "pat-1",
    "payer_id": "acme-health",
    "payer_name": "Acme Health",
    "plan": "PPO Gold",
    "relationship": "spouse",
    "member_id": "XZ-123-456",
    "subscriber_name": "Bo Example",
    "group_number": "GRP-9",
}
PLAINTEXT = ("Ada Example", "1980-05-06", "XZ-123-456", "Bo Example", "female")


async def register(scheduling: Assembled[Scheduling], patient_id: str = "pat-1") -> None:
    await scheduling.use_cases.scheduling.register_patient(
        META,
        patient_id=patient_id,
        name="Ada Example",
        birth_date=date(1980, 5, 6),
        phone="+1 555",
        sex="female",
    )


async def learnt(
    billing: Assembled[Billing], stream: str, count: int, timeout: float = 10.0
) -> list[Envelope]:
    """Billing's stream once it holds `count` events."""

    async def loaded() -> list[Envelope]:
        envelopes = await billing.kit.store.load(stream)
        return envelopes if len(envelopes) >= count else []

    return await wait_until(loaded, timeout=timeout, message=f"{count} events on {stream}")


async def account_doc(billing: Assembled[Billing], until: Any) -> dict[str, Any]:
    async def read() -> dict[str, Any] | None:
        doc = public(
            await billing.kit.read_models.get(
                view.ACCOUNTS_PROJECTION, view.ACCOUNTS, view.doc_id("acme", "pat-1")
            )
        )
        return doc if doc is not None and until(doc) else None

    found = await wait_until(read, message="the account in billing's read model")
    assert found is not None
    return found


def decoded(built: Assembled[Any], envelope: Envelope) -> DomainEvent:
    """As billing's reactors decode what they consume."""
    return SPEC.decoder.decode(envelope)


async def test_a_patient_and_coverage_are_learnt_with_their_phi_copied_sealed(
    scheduling_service: Assembled[Scheduling], billing_service: Assembled[Billing]
) -> None:
    await register(scheduling_service)
    await scheduling_service.use_cases.patients.record_coverage(
        META, coverage_id="cov-1", **COVERAGE
    )

    account = streams.patient_account("acme", "pat-1")
    registered, covered = await learnt(billing_service, account, 2)

    # The raw store: sealed values, exactly as scheduling stored them (never opened, never
    # sealed again), and no plaintext anywhere.
    assert "PHI" not in registered.type
    raw = str([registered.data, covered.data])
    assert not [text for text in PLAINTEXT if text in raw]
    source = await scheduling_service.kit.store.load(scheduling_streams.patient("acme", "pat-1"))
    assert registered.data["name"] == source[0].data["name"]
    assert covered.data["member_id"] == source[1].data["member_id"]
    assert covered.data["subscriber_name"] == source[1].data["subscriber_name"]
    assert (registered.data["learnt_from"], covered.data["learnt_from"]) == (
        source[0].id,
        source[1].id,
    )
    assert set(covered.phi) == {"member_id", "subscriber_name"}
    assert (covered.subject, covered.causation_id, covered.actor) == (
        "pat-1",
        source[1].id,
        "system:billing",
    )

    # Billing's fold and read model: the coverage by priority, opened with the patient's key.
    state = await billing_service.use_cases.learning.state(account, learning.patient_account)
    assert state.primary is not None
    assert (state.primary.payer_id, state.primary.group_number) == ("acme-health", "GRP-9")
    doc = await account_doc(billing_service, until=lambda d: d["known"] and d["coverages"])
    assert not [text for text in PLAINTEXT if text in str(doc)]
    vault = billing_service.kit.phi_vault()
    [coverage] = doc["coverages"]
    assert await vault.reveal("acme", coverage["member_id"]) == "XZ-123-456"
    assert await vault.reveal("acme", coverage["subscriber_name"]) == "Bo Example"
    assert await vault.reveal("acme", doc["sex"]) == "female"
    assert {k: coverage[k] for k in ("coverage_id", "priority", "relationship", "plan")} == {
        "coverage_id": "cov-1",
        "priority": 1,
        "relationship": "spouse",
        "plan": "PPO Gold",
    }


async def test_a_redelivered_event_learns_nothing_new(
    scheduling_service: Assembled[Scheduling], billing_service: Assembled[Billing]
) -> None:
    await register(scheduling_service)
    account = streams.patient_account("acme", "pat-1")
    await learnt(billing_service, account, 1)
    [source] = await scheduling_service.kit.store.load(scheduling_streams.patient("acme", "pat-1"))

    outcome = await billing_service.use_cases.learning.learn(
        decoded(billing_service, source), source
    )

    assert outcome is not None
    assert (outcome.stream_version, outcome.events) == (1, ())
    assert len(await billing_service.kit.store.load(account)) == 1


class RacingStore:
    """The event store, but the first `parties` loads wait for one another: every handler
    decides on the same version, and all but one append into a conflict and reload."""

    def __init__(self, store: EventStore, parties: int) -> None:
        self._store = store
        self._barrier = asyncio.Barrier(parties)
        self._starting = parties
        self.conflicts = 0

    async def load(self, stream: str, after_version: int = 0) -> list[Envelope]:
        envelopes = await self._store.load(stream, after_version=after_version)
        if self._starting > 0:
            self._starting -= 1
            await asyncio.wait_for(self._barrier.wait(), 5)
        return list(envelopes)

    async def append(self, stream: str, envelopes: Any, expected_version: int, **kw: Any) -> Any:
        try:
            return await self._store.append(stream, envelopes, expected_version, **kw)
        except ConcurrencyConflict:
            self.conflicts += 1
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.mark.parametrize("handlers", [2, 4])
async def test_handlers_racing_for_one_fact_record_it_once(
    scheduling_service: Assembled[Scheduling], billing_service: Assembled[Billing], handlers: int
) -> None:
    # Billing's reactor is stopped: only the racing handlers learn.
    await billing_service.service.stop()
    await register(scheduling_service)
    [source] = await scheduling_service.kit.store.load(scheduling_streams.patient("acme", "pat-1"))
    kit = billing_service.kit
    store = RacingStore(kit.store, handlers)
    racers = [
        Learning(
            CommandHandler(store, kit.handler.registry, kit.clock, kit.ids, vault=kit.vault),  # type: ignore[arg-type]
            kit.read_models,
        )
        for _ in range(handlers)
    ]

    outcomes = await asyncio.gather(
        *(racer.learn(decoded(billing_service, source), source) for racer in racers)
    )

    recorded = [o for o in outcomes if o is not None and o.events]
    assert len(recorded) == 1
    assert store.conflicts == handlers - 1
    [envelope] = await kit.store.load(streams.patient_account("acme", "pat-1"))
    assert envelope.data["learnt_from"] == source.id


async def test_a_coverage_before_the_registration_and_an_enrolment_before_the_hire_end_right(
    scheduling_service: Assembled[Scheduling],
    staffing_service: Assembled[Staffing],
    billing_service: Assembled[Billing],
) -> None:
    await billing_service.service.stop()  # billing is handed the events here, out of order
    await register(scheduling_service)
    await scheduling_service.use_cases.patients.record_coverage(
        META, coverage_id="cov-1", **COVERAGE
    )
    staffing = staffing_service.use_cases
    await staffing.employees.hire(
        META,
        Hire(
            employee_id="dr-a",
            name="Dr. A",
            job=Job(title="Physician", role="physician", site_ids=("north",), fte=1.0),
            hired_on=date(2026, 1, 5),
            provider=ProviderDetails(npi="1234567893", taxonomy_code="207Q00000X", specialty="F"),
        ),
    )
    for status in ("applied", "enrolled"):
        await staffing.enrolments.change(
            META,
            employee_id="dr-a",
            payer_id="acme-health",
            status=status,
            effective_from=date(2026, 2, 1),
        )
    patient = await scheduling_service.kit.store.load(scheduling_streams.patient("acme", "pat-1"))
    employee = await staffing_service.kit.store.load(staffing_streams.employee("acme", "dr-a"))
    enrolment = await staffing_service.kit.store.load(
        staffing_streams.enrolment("acme", "dr-a", "acme-health")
    )
    learning_ = billing_service.use_cases.learning
    # Each source stream in order, the streams interleaved backwards, then all again.
    arrivals = [*reversed(patient), *enrolment, *employee]
    for envelope in [*arrivals, *arrivals]:
        await learning_.learn(decoded(billing_service, envelope), envelope)

    account = await learning_.state(
        streams.patient_account("acme", "pat-1"), learning.patient_account
    )
    assert isinstance(account.demographics, PatientLearnt)
    assert isinstance(account.primary, CoverageLearnt)
    assert account.primary.coverage_id == "cov-1"
    provider = await learning_.state(
        streams.rendering_provider("acme", "dr-a"), learning.rendering_provider
    )
    assert (provider.name, provider.npi, provider.taxonomy_code) == (
        "Dr. A",
        "1234567893",
        "207Q00000X",
    )
    assert provider.enrolled_with("acme-health", date(2026, 2, 1))
    assert not provider.enrolled_with("acme-health", date(2026, 1, 31))
    # Hire (name), details (NPI), two enrolment changes: each once.
    stored = await billing_service.kit.store.load(streams.rendering_provider("acme", "dr-a"))
    assert len(stored) == 4


async def test_a_forgotten_patients_copies_in_billing_read_redacted_and_leave_the_cache(
    scheduling_service: Assembled[Scheduling], billing_service: Assembled[Billing]
) -> None:
    await register(scheduling_service)
    await scheduling_service.use_cases.patients.record_coverage(
        META, coverage_id="cov-1", **COVERAGE
    )
    account = streams.patient_account("acme", "pat-1")
    await learnt(billing_service, account, 2)
    learning_ = billing_service.use_cases.learning
    await learning_.state(account, learning.patient_account)  # folded and kept in the cache
    states = billing_service.kit.handler.states
    assert states.forget("acme", "nobody") == 0
    kept_before = len(states)

    await scheduling_service.use_cases.scheduling.forget_patient(META, "pat-1", "asked")

    envelopes = await learnt(billing_service, account, 3)
    assert envelopes[-1].type.split(".")[2] == "PatientForgottenLearnt"

    async def dropped() -> bool:
        return len(states) < kept_before

    await wait_until(dropped, message="billing's folded state of the patient dropped")
    assert states.forget("acme", "pat-1") == 0  # nothing of theirs left to drop
    doc = await account_doc(billing_service, until=lambda d: d["forgotten"])
    vault = billing_service.kit.phi_vault()
    assert await vault.reveal("acme", doc["coverages"][0]["member_id"]) == REDACTED
    assert await vault.reveal("acme", doc["name"]) == REDACTED

    # A coverage event delivered again after the forgetting learns nothing.
    source = await scheduling_service.kit.store.load(scheduling_streams.patient("acme", "pat-1"))
    again = source[1].model_copy(update={"id": "another-delivery"})
    outcome = await learning_.learn(decoded(billing_service, again), again)
    assert outcome is not None
    assert outcome.events == ()


async def test_a_fact_to_seal_for_a_patient_whose_key_is_gone_is_not_kept(
    scheduling_service: Assembled[Scheduling], billing_service: Assembled[Billing]
) -> None:
    # A coverage recorded before subscriber names existed has a plain "" to seal; if the key
    # is destroyed before billing learns it (scheduling forgets first, records after), billing
    # cannot seal it and keeps nothing: the forgetting arrives on its own.
    await billing_service.service.stop()
    await register(scheduling_service)
    await scheduling_service.use_cases.patients.record_coverage(
        META, coverage_id="cov-1", **{**COVERAGE, "relationship": "self", "subscriber_name": ""}
    )
    source = (await scheduling_service.kit.store.load(scheduling_streams.patient("acme", "pat-1")))[
        1
    ]
    old = source.model_copy(
        update={"data": {k: v for k, v in source.data.items() if k != "subscriber_name"}}
    )
    event = decoded(billing_service, old)
    assert getattr(event, "subscriber_name") == ""  # noqa: B009 - as an old event decodes
    assert isinstance(getattr(event, "member_id"), Sealed)  # noqa: B009
    keys = billing_service.kit.keys
    assert keys is not None
    await keys.destroy("acme", "pat-1")

    outcome = await billing_service.use_cases.learning.learn(event, old)

    assert outcome is None
    assert await billing_service.kit.store.load(streams.patient_account("acme", "pat-1")) == []
