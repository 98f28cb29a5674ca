"""Receivables from billing's events (issue 13): balances and aging as of any date.

The pinned events are appended straight to billing's event store, as posting (835s) and the
patient ledger will record them; the read model sees them through the bus like any other."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.billing import app as billing
from services.billing.application.patients import AssessPatients
from services.billing.application.receivables import Kpis
from services.billing.domain import streams
from services.billing.domain.events import (
    Adjustment,
    BillingEvent,
    ChargeCreated,
    ChargeLine,
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    ClaimCreated,
    ClaimWrittenOff,
    PatientPaymentReceived,
    PatientResponsibilityAssessed,
)
from services.billing.projections import receivables as view
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.kit import Assembled
from tests.support import wait_until

T = "acme"
META = Metadata(tenant=T, correlation_id="c")
DAY1 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def patients_assessed_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests write the patient ledger's events themselves, each at a chosen past time:
    the live reaction that assesses patients from adjudications would write them again, now."""

    async def nothing(self: AssessPatients, event: DomainEvent, envelope: Envelope) -> None:
        return None

    monkeypatch.setattr(AssessPatients, "react", nothing)


class Ledger:
    def __init__(self, built: Assembled[billing.UseCases]) -> None:
        self.built = built
        self.versions: dict[str, int] = {}

    async def add(self, stream: str, event: BillingEvent, at: datetime) -> None:
        version = self.versions.get(stream, 0) + 1
        envelope = seal(
            event,
            stream=stream,
            stream_version=version,
            meta=META,
            event_id=str(uuid.uuid4()),
            time=at,
        )
        await self.built.kit.handler.store.append(stream, [envelope], version - 1)
        self.versions[stream] = version

    async def settled(self) -> None:
        runner = self.built.kit.runner(view.PROJECTION)

        async def caught_up() -> bool:
            seen = [
                await self.built.kit.read_models.get(
                    view.PROJECTION, view.SOURCES, view.doc_id(T, stream)
                )
                for stream in self.versions
            ]
            return (
                all(
                    doc is not None and doc["_seen"].get(stream.replace(".", "\uff0e"), 0) >= v
                    for doc, (stream, v) in zip(seen, self.versions.items(), strict=True)
                )
                and await runner.lag() == 0
            )

        await wait_until(caught_up, message="receivables caught up")

    async def visit(self, n: int, dos: date, at: datetime, total: int = 10_000) -> str:
        charge_id = f"appt-{n}"
        await self.add(
            streams.charge(T, charge_id),
            ChargeCreated(
                charge_id=charge_id,
                appointment_id=charge_id,
                patient_id=f"pat-{n}",
                site_id="north" if n % 2 else "south",
                provider_id="prov-1",
                date_of_service=dos,
                diagnoses=("J06.9",),
                lines=(
                    ChargeLine(line_id="1", code="99213", diagnosis_pointers=(1,), fee_cents=total),
                ),
                payer_id="aetna",
                fee_schedule_version=1,
                created_at=at,
                learnt_from=f"visit-{n}",
            ),
            at,
        )
        claim_id = f"CLM{n}"
        await self.add(
            streams.claim(T, claim_id),
            ClaimCreated(
                claim_id=claim_id,
                patient_id=f"pat-{n}",
                payer_id="aetna",
                coverage_id="cov",
                priority=1,
                site_id="north" if n % 2 else "south",
                provider_id="prov-1",
                charge_ids=(charge_id,),
                total_cents=total,
                created_at=at,
            ),
            at,
        )
        return claim_id


def adjudication(claim_id: str, at: datetime, posting: str) -> ClaimAdjudicated:
    """Paid 6,000 of 10,000; 2,500 contractual (CO-45); 1,500 to the patient (PR-2)."""
    return ClaimAdjudicated(
        claim_id=claim_id,
        outcome="partially_paid",
        paid_cents=6_000,
        patient_responsibility_cents=1_500,
        payer_claim_control_number="PCN1",
        adjustments=(
            Adjustment(group="CO", reason="45", amount_cents=2_500),
            Adjustment(group="PR", reason="2", amount_cents=1_500),
        ),
        adjudicated_on=at.date(),
        recorded_at=at,
        posting_id=posting,
    )


def assessed(n: int, claim_id: str, dos: date, at: datetime, source: str) -> BillingEvent:
    return PatientResponsibilityAssessed(
        patient_id=f"pat-{n}",
        entry_id=f"e-{source}",
        charge_id=f"appt-{n}",
        claim_id=claim_id,
        site_id="north" if n % 2 else "south",
        provider_id="prov-1",
        date_of_service=dos,
        amount_cents=1_500,
        reason="coinsurance",
        learnt_from=source,
        assessed_at=at,
    )


async def test_aging_as_of_a_past_date_equals_the_aging_computed_then(
    billing_service: Assembled[billing.UseCases],
) -> None:
    ledger, ar = Ledger(billing_service), billing_service.use_cases.receivables
    # Two visits in January and March; the March claim is adjudicated on 2 March.
    old = await ledger.visit(1, date(2026, 1, 5), DAY1 - timedelta(days=50))
    new = await ledger.visit(2, date(2026, 3, 1), DAY1 - timedelta(hours=2))
    await ledger.add(streams.claim(T, new), adjudication(new, DAY1, "P1"), DAY1)
    await ledger.add(
        streams.patient_ledger(T, "pat-2"),
        assessed(2, new, date(2026, 3, 1), DAY1, "P1"),
        DAY1 + timedelta(minutes=1),
    )
    await ledger.settled()
    then = (await ar.aging(T, DAY1.date())).out()
    # The old claim whole; the new one's 10,000 less 6,000 paid, 2,500 CO and 1,500 PR, the
    # PR now the patient's.
    assert then["total_cents"] == 10_000 + 1_500
    assert then["buckets"]["0-30"] == 1_500
    assert then["buckets"]["31-60"] == 10_000  # 5 Jan to 2 Mar: 56 days

    # Later: the old claim written off, the new one's adjudication reversed, a payment.
    later = DAY1 + timedelta(days=20)
    await ledger.add(
        streams.claim(T, old),
        ClaimWrittenOff(
            claim_id=old, reason="timely filing", amount_cents=10_000, written_off_at=later
        ),
        later,
    )
    await ledger.add(
        streams.claim(T, new),
        ClaimAdjudicationReversed(
            claim_id=new,
            posting_id="P2",
            reverses="P1",
            remittance_id="R1",
            payer_claim_control_number="PCN1",
            paid_cents=6_000,
            patient_responsibility_cents=1_500,
            reversed_on=later.date(),
            recorded_at=later,
        ),
        later,
    )
    await ledger.add(
        streams.patient_ledger(T, "pat-2"),
        PatientPaymentReceived(
            patient_id="pat-2",
            payment_id="pay-1",
            amount_cents=500,
            method="cash",
            site_id="south",
            received_by="desk",
            received_at=later,
        ),
        later,
    )
    await ledger.settled()
    assert (await ar.aging(T, DAY1.date())).out() == then  # the past is unchanged

    now = (await ar.aging(T, later.date())).out()
    # The write-off took the old claim's 10,000 away; the reversal put back all 10,000 the
    # adjudication took off the new claim (paid, CO and PR); the patient owes 1,500 - 500.
    assert now["total_cents"] == 10_000 + 1_000
    payers = {o["owner"]: o["total_cents"] for o in now["owners"]}
    assert payers == {"aetna": 10_000, "patient": 1_000}


async def test_balances_tie_out_with_the_entries(
    billing_service: Assembled[billing.UseCases],
) -> None:
    ledger, ar = Ledger(billing_service), billing_service.use_cases.receivables
    for n in range(1, 5):
        claim = await ledger.visit(n, date(2026, 2, n), DAY1 - timedelta(days=10 - n))
        if n % 2 == 0:
            await ledger.add(streams.claim(T, claim), adjudication(claim, DAY1, f"P{n}"), DAY1)
            await ledger.add(
                streams.patient_ledger(T, f"pat-{n}"),
                assessed(n, claim, date(2026, 2, n), DAY1, f"P{n}"),
                DAY1,
            )
    await ledger.settled()
    as_of = DAY1.date()
    total = (await ar.balances(T, as_of, "payer"))["total_cents"]
    assert total == 2 * 10_000 + 2 * 1_500
    for by in ("patient", "payer", "site", "provider"):
        answer = await ar.balances(T, as_of, by)
        assert sum(r["balance_cents"] for r in answer["balances"]) == total
        for row in answer["balances"]:
            key = {
                "payer": "payer",
                "patient": "patient-of",
                "site": "site",
                "provider": "provider",
            }[by]
            if by == "payer" and row["owner"] == "patient":
                continue
            assert await ar.current(T, f"{key}:{row['owner']}") == row["balance_cents"]
    assert await ar.current(T, "payer:aetna") == 2 * 10_000
    assert await ar.current(T, "patient:pat-2") == 1_500


async def test_kpis_of_a_site_and_month(billing_service: Assembled[billing.UseCases]) -> None:
    """Two March claims at north (visits 1 and 3): one paid at first pass, one denied."""
    ledger = Ledger(billing_service)
    kpis = Kpis(billing_service.kit.read_models, billing_service.use_cases.receivables)
    paid = await ledger.visit(1, date(2026, 2, 20), DAY1)
    denied = await ledger.visit(3, date(2026, 2, 25), DAY1)
    await ledger.add(streams.claim(T, paid), adjudication(paid, DAY1, "P1"), DAY1)
    await ledger.add(
        streams.claim(T, denied),
        ClaimAdjudicated(
            claim_id=denied,
            outcome="denied",
            paid_cents=0,
            patient_responsibility_cents=0,
            payer_claim_control_number="PCN3",
            adjudicated_on=DAY1.date(),
            recorded_at=DAY1,
        ),
        DAY1,
    )
    await ledger.settled()
    found = await kpis.of(T, "north", "2026-03")
    assert found["counts"]["charges_cents"] == 20_000
    assert found["ar_cents"] == 10_000  # the denied claim is still owed (appeal or write-off)
    assert found["denial_rate"] == 0.5
    assert found["first_pass_resolution_rate"] == 0.5
    assert found["net_collection_rate"] == round(6_000 / (20_000 - 2_500), 4)
    assert found["average_payment_lag_days"] == (DAY1.date() - date(2026, 2, 20)).days
    # Days in AR: 10,000 owed over the daily charges of January to March (20,000 in 90 days).
    assert found["days_in_ar"] == round(10_000 / (20_000 / 90), 1)
    assert found["ar_over_90_share"] == 0.0
