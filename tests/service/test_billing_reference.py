"""Billing's reference data on the service layer (the API twins are in
tests/api/test_billing_reference.py): payers, plans, billing providers and fee schedule
versions are decided on their streams and reach the read models; a fee schedule needs its payer
(self-pay is built in); a new version leaves the earlier ones as they were."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.billing.app import UseCases
from services.billing.domain import streams
from services.billing.domain.events import SELF_PAY, Fee, PostalAddress
from services.billing.projections import reference as view
from shared.commands import Outcome
from shared.domain import Invalid, NotFound, Rejected
from shared.kit import Assembled
from shared.readmodels import public
from tests.service.conftest import META
from tests.support import wait_until

Built = Assembled[UseCases]
FEES = (
    Fee(code="99213", amount_cents=12_000),
    Fee(code="99213", modifier="25", amount_cents=12_500),
    Fee(code="36415", amount_cents=1_500),
)


async def document(
    built: Built, projection: str, collection: str, doc_id: str, until: Any = bool
) -> dict[str, Any]:
    async def read() -> dict[str, Any] | None:
        doc = public(await built.kit.read_models.get(projection, collection, doc_id))
        return doc if doc is not None and until(doc) else None

    found = await wait_until(read, message=f"{doc_id} in {collection}")
    assert found is not None
    return found


async def define_acme(built: Built) -> Outcome[Any]:
    return await built.use_cases.reference.define_payer(
        META,
        payer_id="acme-mutual",
        name="Acme Mutual",
        x12_payer_id="AM001",
        claim_filing_indicator="CI",
    )


async def test_a_payer_and_its_plans_reach_the_read_model(billing_service: Built) -> None:
    reference = billing_service.use_cases.reference
    await define_acme(billing_service)
    await reference.define_plan(META, payer_id="acme-mutual", plan_id="ppo", name="PPO")
    made = await reference.define_plan(
        META,
        payer_id="acme-mutual",
        plan_id="advantage",
        name="Advantage",
        claim_filing_indicator="16",
    )
    assert (made.stream, made.stream_version) == ("acme:payer:acme-mutual", 3)
    again = await define_acme(billing_service)
    assert (again.events, again.stream_version) == ((), 3)  # the same definition: nothing new

    doc = await document(
        billing_service,
        view.PAYERS_PROJECTION,
        view.PAYERS,
        "acme:acme-mutual",
        until=lambda d: len(d["plans"]) == 2,
    )
    assert (doc["name"], doc["x12_payer_id"], doc["claim_filing_indicator"]) == (
        "Acme Mutual",
        "AM001",
        "CI",
    )
    assert [(p["plan_id"], p["claim_filing_indicator"]) for p in doc["plans"]] == [
        ("advantage", "16"),
        ("ppo", None),
    ]
    assert [d["payer_id"] for d in await reference.payers("acme")] == ["acme-mutual"]
    assert await reference.payers("globex") == []


async def test_a_plan_of_an_unknown_payer_and_a_self_pay_payer_write_nothing(
    billing_service: Built,
) -> None:
    reference = billing_service.use_cases.reference
    with pytest.raises(NotFound, match="payer nobody not found"):
        await reference.define_plan(META, payer_id="nobody", plan_id="ppo", name="PPO")
    with pytest.raises(Invalid, match="built in"):
        await reference.define_payer(
            META, payer_id=SELF_PAY, name="Self", x12_payer_id="SELF1", claim_filing_indicator="ZZ"
        )
    assert await reference.stream_version(streams.payer("acme", "nobody")) == 0
    assert await reference.stream_version(streams.payer("acme", SELF_PAY)) == 0


async def test_a_billing_provider_reaches_the_read_model(billing_service: Built) -> None:
    reference = billing_service.use_cases.reference
    street = PostalAddress(line1="1 Main St", city="Albany", state="NY", postal_code="122071234")
    await reference.set_billing_provider(
        META,
        site_id="north",
        name="Northside Medical Group",
        npi="1234567893",
        tin="123456789",
        taxonomy_code="207Q00000X",
        address=street,
        place_of_service="11",
        facility_name="Northside Family Clinic",
        facility_address=street,
    )
    doc = await document(
        billing_service, view.BILLING_PROVIDERS_PROJECTION, view.BILLING_PROVIDERS, "acme:north"
    )
    assert doc["npi"] == "1234567893"
    assert doc["address"]["postal_code"] == "122071234"
    with pytest.raises(Invalid, match="check digit"):
        await reference.set_billing_provider(META, **{**public_fields(doc), "npi": "1234567890"})
    assert await reference.stream_version(streams.billing_provider("acme", "north")) == 1


def public_fields(doc: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in doc.items() if k not in ("tenant", "stream", "set_at")}
    fields["address"] = PostalAddress(**fields["address"])
    fields["facility_address"] = PostalAddress(**fields["facility_address"])
    return fields


async def test_fee_schedules_need_their_payer_but_self_pay_is_built_in(
    billing_service: Built,
) -> None:
    reference = billing_service.use_cases.reference
    with pytest.raises(NotFound, match="payer acme-mutual not found"):
        await reference.publish_fees(
            META, payer_id="acme-mutual", effective_from=date(2026, 1, 1), fees=FEES
        )
    assert await reference.stream_version(streams.fee_schedule("acme", "acme-mutual")) == 0

    made = await reference.publish_fees(
        META, payer_id=SELF_PAY, effective_from=date(2026, 1, 1), fees=FEES
    )
    assert (made.stream, made.stream_version) == ("acme:fee-schedule:self-pay", 1)


async def test_a_new_version_leaves_the_earlier_as_it_was_and_prices_from_its_day(
    billing_service: Built,
) -> None:
    reference = billing_service.use_cases.reference
    await define_acme(billing_service)
    await reference.publish_fees(
        META, payer_id="acme-mutual", effective_from=date(2026, 1, 1), fees=FEES
    )
    raised = (Fee(code="99213", amount_cents=13_000),)
    second = await reference.publish_fees(
        META, payer_id="acme-mutual", effective_from=date(2027, 1, 1), fees=raised
    )
    assert second.stream_version == 2
    with pytest.raises(Rejected, match="published already as version 2"):
        await reference.publish_fees(
            META, payer_id="acme-mutual", effective_from=date(2027, 1, 1), fees=raised
        )

    schedule = await document(
        billing_service,
        view.FEE_SCHEDULES_PROJECTION,
        view.FEE_SCHEDULES,
        "acme:acme-mutual",
        until=lambda d: len(d["versions"]) == 2,
    )
    assert [
        (v["schedule_version"], v["effective_from"], v["fee_count"]) for v in schedule["versions"]
    ] == [
        (1, "2026-01-01", 3),
        (2, "2027-01-01", 1),
    ]
    first = await reference.fee_version("acme", "acme-mutual", 1)
    assert first is not None
    assert [Fee(**f) for f in first["fees"]] == list(FEES)  # as published

    assert reference.version_in_force(schedule, date(2025, 12, 31)) is None
    assert reference.version_in_force(schedule, date(2026, 12, 31)) == 1
    assert reference.version_in_force(schedule, date(2027, 1, 1)) == 2
    assert reference.fee_in(first, "99213", "25") == FEES[1]
    assert reference.fee_in(first, "99213", "59") == FEES[0]
    assert reference.fee_in(first, "99214", "") is None
