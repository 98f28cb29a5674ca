"""Charges from completed visits, on the service layer: the reaction is handed scheduling's
`VisitCompleted` as the bus would deliver it (again, and twice at once), and what billing
learnt of the patient and the payer's fee schedules are recorded on billing's streams."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.billing.app import UseCases
from services.billing.application.charges import (
    ChargeCompletedVisits,
    LearnSiteZones,
    PatientNotLearnt,
    SiteNotLearnt,
)
from services.billing.domain import streams
from services.billing.domain.charges import CodedLine, CodingIssues
from services.billing.domain.events import (
    ChargeCorrected,
    ChargeCreated,
    ChargeReleased,
    PatientForgottenLearnt,
)
from services.billing.projections import charges as view
from services.scheduling.contracts import SiteRegistered, VisitCompleted
from shared.domain import Rejected
from shared.events import Envelope, Metadata, seal
from shared.kit import Assembled
from tests.billing_facts import define_payer, learn_patient, publish_fees, record_billing
from tests.service.conftest import META
from tests.support import TestRunClock, wait_until

Billing = Assembled[UseCases]
TENANT = META.tenant
DAY = date(2026, 11, 26)


def visit(
    appointment_id: str = "appt-1",
    patient_id: str = "pat-1",
    procedures: tuple[str, ...] = ("99213",),
    diagnoses: tuple[str, ...] = ("E11.9", "I10"),
    start: datetime = datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
) -> tuple[VisitCompleted, Envelope]:
    event = VisitCompleted(
        appointment_id=appointment_id,
        patient_id=patient_id,
        provider_id="dr-a",
        site_id="north",
        visit_type_id="follow-up",
        start=start,
        procedures=procedures,
        diagnoses=diagnoses,
        completed_at=start,
    )
    meta = Metadata(tenant=TENANT, actor="clinician:1", site="north", correlation_id="c-1")
    envelope = seal(
        event,
        stream=f"{TENANT}:site-day:north:{start.date().isoformat()}",
        stream_version=3,
        meta=meta,
        event_id=str(uuid.uuid4()),
        time=TestRunClock().now(),
        subject=appointment_id,
    )
    return event, envelope


async def learn_site(billing: Billing, site_id: str = "north") -> Envelope:
    """Scheduling's SiteRegistered, as delivered to billing's reaction: the site's time zone."""
    event = SiteRegistered(site_id=site_id, name=site_id, time_zone="America/New_York")
    meta = Metadata(tenant=TENANT, actor="admin", correlation_id="c-site")
    envelope = seal(
        event,
        stream=f"{TENANT}:site:{site_id}",
        stream_version=1,
        meta=meta,
        event_id=str(uuid.uuid4()),
        time=TestRunClock().now(),
        subject=site_id,
    )
    await LearnSiteZones(billing.use_cases.charges).react(event, envelope)
    return envelope


async def events_of(billing: Billing, charge_id: str) -> list[Any]:
    stream = streams.charge(TENANT, charge_id)
    registry = billing.kit.handler.registry
    return [registry.decode(e) for e in await billing.kit.store.load(stream)]


@pytest.fixture
async def priced(billing_service: Billing) -> Billing:
    await define_payer(billing_service, TENANT, "acme", "Acme Health")
    await publish_fees(billing_service, TENANT, "acme", 1, date(2026, 1, 1), {"99213": 10_000})
    await publish_fees(billing_service, TENANT, SELF, 1, date(2026, 1, 1), {"99213": 8_000})
    await learn_patient(billing_service, TENANT, "pat-1", payer_id="acme")
    await learn_site(billing_service)
    return billing_service


SELF = "self-pay"


async def test_a_completed_visit_is_charged_to_the_primary_payer_and_released(
    priced: Billing,
) -> None:
    reaction = ChargeCompletedVisits(priced.use_cases.charges)
    event, envelope = visit()
    await reaction.react(event, envelope)
    created, released = await events_of(priced, "appt-1")
    assert isinstance(created, ChargeCreated)
    assert isinstance(released, ChargeReleased)
    assert (created.payer_id, created.fee_schedule_version) == ("acme", 1)
    assert created.lines[0].fee_cents == 10_000
    assert created.date_of_service == DAY
    assert created.learnt_from == envelope.id

    async def projected() -> Any:
        return await priced.use_cases.charges.get(TENANT, "appt-1")

    doc = await wait_until(projected, message="the charge in billing.charges")
    assert doc["status"] == "released"
    assert doc["total_cents"] == 10_000
    assert doc["issues"] == []


async def test_a_patient_without_coverage_is_charged_at_self_pay(priced: Billing) -> None:
    await learn_patient(priced, TENANT, "pat-2")
    event, envelope = visit("appt-2", patient_id="pat-2")
    await ChargeCompletedVisits(priced.use_cases.charges).react(event, envelope)
    created = (await events_of(priced, "appt-2"))[0]
    assert (created.payer_id, created.lines[0].fee_cents) == (SELF, 8_000)


async def test_a_visit_completed_twice_charges_once(priced: Billing) -> None:
    reaction = ChargeCompletedVisits(priced.use_cases.charges)
    event, envelope = visit()
    await reaction.react(event, envelope)
    await reaction.react(event, envelope)  # redelivered
    other_codes, again = visit(procedures=("99214",))  # completed again, other codes
    await reaction.react(other_codes, again)
    assert len(await events_of(priced, "appt-1")) == 2
    assert await priced.kit.store.version(streams.charge(TENANT, "appt-1")) == 2


async def test_two_handlers_racing_charge_once(priced: Billing) -> None:
    first = ChargeCompletedVisits(priced.use_cases.charges)
    second = ChargeCompletedVisits(priced.use_cases.charges)
    for n in range(5):
        event, envelope = visit(f"appt-race-{n}")
        await asyncio.gather(first.react(event, envelope), second.react(event, envelope))
        created = [
            e for e in await events_of(priced, f"appt-race-{n}") if isinstance(e, ChargeCreated)
        ]
        assert len(created) == 1


async def test_a_patient_billing_has_not_learnt_is_tried_again_later(
    billing_service: Billing,
) -> None:
    await publish_fees(billing_service, TENANT, SELF, 1, date(2026, 1, 1), {"99213": 8_000})
    reaction = ChargeCompletedVisits(billing_service.use_cases.charges)
    event, envelope = visit(patient_id="pat-9")
    with pytest.raises(PatientNotLearnt):
        await reaction.react(event, envelope)
    assert await billing_service.kit.store.version(streams.charge(TENANT, "appt-1")) == 0
    await learn_patient(billing_service, TENANT, "pat-9")
    with pytest.raises(SiteNotLearnt):  # nor the site's time zone
        await reaction.react(event, envelope)
    assert await billing_service.kit.store.version(streams.charge(TENANT, "appt-1")) == 0
    await learn_site(billing_service)
    await reaction.react(event, envelope)  # the redelivery charges it
    assert len(await events_of(billing_service, "appt-1")) == 2


async def test_a_fee_schedule_change_does_not_touch_charges_already_made(priced: Billing) -> None:
    charges = priced.use_cases.charges
    reaction = ChargeCompletedVisits(charges)
    event, envelope = visit(procedures=("99213", "99215"))  # v1 lists no fee for 99215
    await reaction.react(event, envelope)
    stream = streams.charge(TENANT, "appt-1")
    assert await priced.kit.store.version(stream) == 2  # created, held for coding
    # a new version for the same day, with a fee for 99215 and a higher one for 99213
    fees = {"99213": 99_000, "99215": 30_000}
    await publish_fees(priced, TENANT, "acme", 2, date(2026, 11, 1), fees)
    assert await priced.kit.store.version(stream) == 2  # untouched
    with pytest.raises(CodingIssues, match="no fee for 99215 in Acme Health's schedule v1"):
        await charges.release(META, "appt-1")
    lines = [CodedLine(code="99213", diagnosis_pointers=(1, 2))]
    await charges.correct(META, "appt-1", ["E11.9", "I10"], lines, "99215 not documented")
    corrected = (await events_of(priced, "appt-1"))[-1]
    assert isinstance(corrected, ChargeCorrected)
    assert corrected.lines[0].fee_cents == 10_000  # v1's fee, not v2's
    assert corrected.fee_schedule_version == 1
    await charges.release(META, "appt-1")
    # a visit made after the change is priced by the new version
    later, later_envelope = visit("appt-2")
    await reaction.react(later, later_envelope)
    created = (await events_of(priced, "appt-2"))[0]
    assert (created.fee_schedule_version, created.lines[0].fee_cents) == (2, 99_000)


async def test_hold_and_release_and_the_work_queues(priced: Billing) -> None:
    charges = priced.use_cases.charges
    reaction = ChargeCompletedVisits(charges)
    clean, clean_envelope = visit("appt-1")
    coded, coded_envelope = visit("appt-2", diagnoses=("E11",))  # a category
    await reaction.react(clean, clean_envelope)
    await reaction.react(coded, coded_envelope)
    await charges.hold(META, "appt-1", "waiting for the op note")
    with pytest.raises(Rejected, match="held already"):
        await charges.hold(META, "appt-1", "again")

    async def queues() -> Any:
        held = await charges.find(TENANT, status="held")
        errors = await charges.find(TENANT, with_issues=True)
        ready = len(held) == 2 and len(errors) == 1
        return (held, errors) if ready else None

    held, errors = await wait_until(queues, message="both charges held")
    assert {d["charge_id"]: d["hold_reason"] for d in held} == {
        "appt-1": "waiting for the op note",
        "appt-2": "coding",
    }
    assert [i["code"] for i in errors[0]["issues"]] == ["E11"]
    await charges.release(META, "appt-1")
    with pytest.raises(Rejected, match="released already"):
        await charges.release(META, "appt-1")
    doc = await wait_until(
        lambda: _with_status(priced, "appt-1", "released"), message="appt-1 released"
    )
    assert doc["hold_reason"] is None
    assert await charges.find(TENANT, sites=["south"]) == []
    assert view.doc_id(TENANT, "appt-1") == doc["_id"]


async def _with_status(billing: Billing, charge_id: str, status: str) -> Any:
    doc = await billing.use_cases.charges.get(TENANT, charge_id)
    return doc if doc is not None and doc["status"] == status else None


async def test_a_patient_forgotten_before_billing_learnt_them_is_charged_at_self_pay(
    priced: Billing,
) -> None:
    forgotten = PatientForgottenLearnt(patient_id="pat-7", learnt_from="test:forgotten")
    await record_billing(priced, TENANT, streams.patient_account(TENANT, "pat-7"), forgotten)
    event, envelope = visit("appt-7", patient_id="pat-7")
    await ChargeCompletedVisits(priced.use_cases.charges).react(event, envelope)
    created = (await events_of(priced, "appt-7"))[0]
    assert (created.payer_id, created.lines[0].fee_cents) == (SELF, 8_000)


async def test_the_date_of_service_is_the_visit_s_date_at_its_site(priced: Billing) -> None:
    # 02:30 UTC on 27 November is 21:30 on the 26th in New York
    event, envelope = visit("appt-late", start=datetime(2026, 11, 27, 2, 30, tzinfo=UTC))
    await ChargeCompletedVisits(priced.use_cases.charges).react(event, envelope)
    created = (await events_of(priced, "appt-late"))[0]
    assert created.date_of_service == date(2026, 11, 26)


async def test_a_site_is_learnt_once(priced: Billing) -> None:
    stream = streams.site(TENANT, "south")
    envelope = await learn_site(priced, "south")
    event = SiteRegistered(site_id="south", name="south", time_zone="America/New_York")
    await LearnSiteZones(priced.use_cases.charges).react(event, envelope)  # redelivered
    await learn_site(priced, "south")  # registered again, the same zone
    assert await priced.kit.store.version(stream) == 1
