"""Billing's reference data, decided purely: given these events, when this command, then these
events (or this refusal). Payers and plans, billing providers, fee schedule versions, and the
fee-schedule fold that prices charges (`in_force`, `fee_of`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.billing.domain.billing_providers import (
    PLACES_OF_SERVICE,
    STATES,
    SetBillingProvider,
    billing_provider,
)
from services.billing.domain.events import (
    SELF_PAY,
    BillingProviderSet,
    Fee,
    FeeScheduleVersionPublished,
    PayerDefined,
    PlanDefined,
    PostalAddress,
)
from services.billing.domain.fee_schedules import (
    MAX_FEE_CENTS,
    MAX_FEES,
    PublishFeeSchedule,
    fee_schedule,
)
from services.billing.domain.fees import FeeSchedule, fee_of
from services.billing.domain.payers import (
    CLAIM_FILING_INDICATORS,
    DefinePayer,
    DefinePlan,
    payer,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------ payers


def define(**change: Any) -> DefinePayer:
    fields: dict[str, Any] = {
        "payer_id": "acme-mutual",
        "name": "Acme Mutual",
        "x12_payer_id": "AM001",
        "claim_filing_indicator": "CI",
        "defined_at": T0,
        **change,
    }
    return DefinePayer(**fields)


def defined(**change: Any) -> PayerDefined:
    return PayerDefined(**define(**change).model_dump())


def test_a_payer_is_defined_then_its_latest_definition_holds() -> None:
    [first] = payer.decide(payer.initial, define())
    assert first == defined()

    state = payer.fold([first])
    [second] = payer.decide(state, define(name="Acme Mutual Health", defined_at=T1))
    assert second == defined(name="Acme Mutual Health", defined_at=T1)
    assert payer.fold([first, second]).defined == second


def test_the_same_definition_again_records_nothing() -> None:
    state = payer.fold([defined()])
    assert payer.decide(state, define(defined_at=T1)) == []


def test_the_x12_filing_indicators_are_all_sbr09s_and_only_those() -> None:
    assert set(CLAIM_FILING_INDICATORS) == {
        *"11 12 13 14 15 16 17".split(),
        *"AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ".split(),
    }
    for code in CLAIM_FILING_INDICATORS:
        assert payer.decide(payer.initial, define(claim_filing_indicator=code))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"payer_id": SELF_PAY}, "is built in"),
        ({"name": "  "}, "needs a name"),
        ({"name": "x" * 201}, "needs a name"),
        ({"x12_payer_id": "A"}, "2 to 80 letters or digits"),
        ({"x12_payer_id": "A" * 81}, "2 to 80 letters or digits"),
        ({"x12_payer_id": "AM-001"}, "2 to 80 letters or digits"),
        ({"x12_payer_id": "AM 001"}, "2 to 80 letters or digits"),
        ({"claim_filing_indicator": "XX"}, "not an X12 SBR09 code"),
        ({"claim_filing_indicator": "ci"}, "not an X12 SBR09 code"),
        ({"claim_filing_indicator": ""}, "not an X12 SBR09 code"),
    ],
)
def test_a_bad_payer_is_invalid(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        payer.decide(payer.initial, define(**change))


def plan(**change: Any) -> DefinePlan:
    fields: dict[str, Any] = {
        "payer_id": "acme-mutual",
        "plan_id": "ppo",
        "name": "PPO",
        "defined_at": T0,
        **change,
    }
    return DefinePlan(**fields)


def test_a_plan_needs_its_payer() -> None:
    with pytest.raises(NotFound, match="payer acme-mutual not found"):
        payer.decide(payer.initial, plan())


def test_plans_are_defined_beside_the_payer_and_the_latest_of_each_holds() -> None:
    state = payer.fold([defined()])
    [ppo] = payer.decide(state, plan())
    assert ppo == PlanDefined(payer_id="acme-mutual", plan_id="ppo", name="PPO", defined_at=T0)
    state = payer.fold([defined(), ppo])
    [advantage] = payer.decide(
        state, plan(plan_id="advantage", name="Advantage", claim_filing_indicator="16")
    )
    state = payer.fold([defined(), ppo, advantage])
    assert payer.decide(state, plan(defined_at=T1)) == []  # the same again
    [renamed] = payer.decide(state, plan(name="PPO Gold"))
    state = payer.fold([defined(), ppo, advantage, renamed, defined(name="Acme")])
    assert {k: p.name for k, p in state.plans.items()} == {
        "ppo": "PPO Gold",
        "advantage": "Advantage",
    }
    assert state.plans["advantage"].claim_filing_indicator == "16"
    assert state.defined is not None
    assert state.defined.name == "Acme"


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"name": ""}, "needs a name"), ({"claim_filing_indicator": "Q1"}, "SBR09")],
)
def test_a_bad_plan_is_invalid(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        payer.decide(payer.fold([defined()]), plan(**change))


# ------------------------------------------------------------------------- billing providers

STREET = PostalAddress(line1="1 Main St", city="Albany", state="NY", postal_code="12207")


def setting(**change: Any) -> SetBillingProvider:
    fields: dict[str, Any] = {
        "site_id": "north",
        "name": "Northside Medical Group",
        "npi": "1234567893",
        "tin": "123456789",
        "taxonomy_code": "207Q00000X",
        "address": STREET,
        "place_of_service": "11",
        "facility_name": "Northside Family Clinic",
        "facility_address": STREET,
        "set_at": T0,
        **change,
    }
    return SetBillingProvider(**fields)


def test_a_billing_provider_is_set_and_the_latest_setting_holds() -> None:
    [first] = billing_provider.decide(billing_provider.initial, setting())
    assert first == BillingProviderSet(**setting().model_dump())
    state = billing_provider.fold([first])
    assert billing_provider.decide(state, setting(set_at=T1)) == []  # the same again
    [moved] = billing_provider.decide(
        state, setting(place_of_service="22", tin="987654321", set_at=T1)
    )
    assert billing_provider.fold([first, moved]).current == moved


def address(**change: Any) -> PostalAddress:
    return STREET.model_copy(update=change)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"npi": "1234567890"}, "valid check digit"),  # the check digit of 123456789 is 3
        ({"npi": "123456789"}, "valid check digit"),
        ({"npi": "12345678931"}, "valid check digit"),
        ({"npi": "12345678a3"}, "valid check digit"),
        ({"npi": "１２３４５６７８９３"}, "valid check digit"),  # fullwidth digits
        ({"tin": "12-3456789"}, "9 digits"),
        ({"tin": "12345678"}, "9 digits"),
        ({"taxonomy_code": "207Q00000"}, "10 characters"),
        ({"taxonomy_code": "207Q00000Y"}, "10 characters"),
        ({"taxonomy_code": "20AQ00000X"}, "10 characters"),
        ({"taxonomy_code": "207q00000x"}, "10 characters"),
        ({"place_of_service": "30"}, "not a CMS place of service"),
        ({"place_of_service": "00"}, "not a CMS place of service"),
        ({"place_of_service": "1"}, "not a CMS place of service"),
        ({"place_of_service": "100"}, "not a CMS place of service"),
        ({"name": " "}, "name must be"),
        ({"facility_name": ""}, "facility's name"),
        ({"address": address(state="XX")}, "not a US state"),
        ({"address": address(state="ny")}, "not a US state"),
        ({"address": address(postal_code="1220")}, "5 or 9 digits"),
        ({"address": address(postal_code="12207-1234")}, "5 or 9 digits"),
        ({"address": address(postal_code="122071")}, "5 or 9 digits"),
        ({"address": address(line1="PO Box 12")}, "not a PO box"),
        ({"address": address(line2="P.O. BOX 9")}, "not a PO box"),
        ({"address": address(city="")}, "city"),
        ({"facility_address": address(state="ZZ")}, "service facility's address's state"),
    ],
)
def test_a_bad_billing_provider_is_invalid(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        billing_provider.decide(billing_provider.initial, setting(**change))


def test_a_nine_digit_zip_a_territory_and_a_facility_po_box_are_accepted() -> None:
    facility = address(line1="PO Box 7", state="PR", postal_code="009011234")
    assert billing_provider.decide(billing_provider.initial, setting(facility_address=facility))


def test_the_common_places_of_service_and_every_state_are_known() -> None:
    assert set("02 10 11 12 19 20 21 22 23 49 50 71 72".split()) <= PLACES_OF_SERVICE
    assert not {"00", "28", "30", "35", "59", "63", "80", "98"} & PLACES_OF_SERVICE
    assert len(STATES) == 50 + 1 + 6 + 3 + 3  # states, DC, territories, FAS, armed forces


# ----------------------------------------------------------------------------- fee schedules


def publish(effective_from: date = date(2026, 1, 1), *fees: Fee) -> PublishFeeSchedule:
    return PublishFeeSchedule(
        payer_id="acme-mutual",
        effective_from=effective_from,
        fees=fees or (Fee(code="99213", amount_cents=12_000),),
        published_at=T0,
    )


def published(state: Any, command: PublishFeeSchedule) -> FeeScheduleVersionPublished:
    [event] = fee_schedule.decide(state, command)
    assert isinstance(event, FeeScheduleVersionPublished)
    return event


def test_versions_are_numbered_on_the_stream_and_each_is_its_own_event() -> None:
    first = published(fee_schedule.initial, publish())
    assert first == FeeScheduleVersionPublished(
        payer_id="acme-mutual",
        schedule_version=1,
        effective_from=date(2026, 1, 1),
        fees=(Fee(code="99213", amount_cents=12_000),),
        published_at=T0,
    )
    raised = Fee(code="99213", amount_cents=13_000)
    second = published(fee_schedule.fold([first]), publish(date(2027, 1, 1), raised))
    assert second.schedule_version == 2
    history: list[DomainEvent] = [first, second]
    assert fee_schedule.fold(history).versions == (first, second)  # the first as it was


def test_the_latest_fees_from_the_same_day_again_are_published_already() -> None:
    first = published(fee_schedule.initial, publish())
    with pytest.raises(Rejected, match="published already as version 1"):
        fee_schedule.decide(fee_schedule.fold([first]), publish())
    # The same fees from another day are a version of their own.
    assert published(fee_schedule.fold([first]), publish(date(2026, 6, 1))).schedule_version == 2


@pytest.mark.parametrize(
    ("fees", "reason"),
    [
        ((), "at least one fee"),
        ((Fee(code="9921", amount_cents=1),), "not a CPT or HCPCS"),
        ((Fee(code="992134", amount_cents=1),), "not a CPT or HCPCS"),
        ((Fee(code="W1234", amount_cents=1),), "not a CPT or HCPCS"),
        ((Fee(code="g0438", amount_cents=1),), "not a CPT or HCPCS"),
        ((Fee(code="99213", modifier="2", amount_cents=1),), "modifier '2'"),
        ((Fee(code="99213", modifier="2-", amount_cents=1),), "modifier '2-'"),
        ((Fee(code="99213", amount_cents=-1),), "from 0 to"),
        ((Fee(code="99213", amount_cents=MAX_FEE_CENTS + 1),), "from 0 to"),
        (
            (Fee(code="99213", amount_cents=1), Fee(code="99213", amount_cents=2)),
            "99213 is listed twice",
        ),
        (
            (
                Fee(code="99213", modifier="25", amount_cents=1),
                Fee(code="99213", modifier="25", amount_cents=1),
            ),
            "99213-25 is listed twice",
        ),
        (tuple(Fee(code=f"{n:05d}", amount_cents=1) for n in range(MAX_FEES + 1)), "at most"),
    ],
)
def test_a_bad_fee_list_is_invalid(fees: tuple[Fee, ...], reason: str) -> None:
    command = PublishFeeSchedule(
        payer_id="acme-mutual", effective_from=date(2026, 1, 1), fees=fees, published_at=T0
    )
    with pytest.raises(Invalid, match=reason):
        fee_schedule.decide(fee_schedule.initial, command)


def test_a_code_with_and_without_a_modifier_and_every_code_shape_may_be_listed() -> None:
    fees = (
        Fee(code="99213", amount_cents=12_000),
        Fee(code="99213", modifier="25", amount_cents=12_500),
        Fee(code="93000", modifier="TC", amount_cents=0),
        Fee(code="0001F", amount_cents=0),
        Fee(code="0042T", amount_cents=100),
        Fee(code="0001U", amount_cents=100),
        Fee(code="G0439", amount_cents=MAX_FEE_CENTS),
    )
    assert published(fee_schedule.initial, publish(date(2026, 1, 1), *fees)).fees == fees


# ------------------------------------------------------------------------ the fee-schedule fold


def version(n: int, effective_from: date, *fees: Fee) -> FeeScheduleVersionPublished:
    return FeeScheduleVersionPublished(
        payer_id="acme-mutual",
        schedule_version=n,
        effective_from=effective_from,
        fees=fees,
        published_at=T0,
    )


JAN, JUL = date(2026, 1, 1), date(2026, 7, 1)


def test_the_version_in_force_is_the_latest_effective_on_or_before_the_day() -> None:
    v1, v2 = version(1, JAN), version(2, JUL)
    schedule = FeeSchedule(versions=(v1, v2))
    assert schedule.in_force(date(2025, 12, 31)) is None
    assert schedule.in_force(JAN) == v1
    assert schedule.in_force(date(2026, 6, 30)) == v1
    assert schedule.in_force(JUL) == v2
    assert schedule.in_force(date(2030, 1, 1)) == v2
    assert FeeSchedule().in_force(JUL) is None


def test_a_backdated_version_is_in_force_from_its_date_not_from_when_published() -> None:
    v1, v2 = version(1, JUL), version(2, JAN)  # published later, effective earlier
    schedule = FeeSchedule(versions=(v1, v2))
    assert schedule.in_force(date(2026, 3, 1)) == v2
    assert schedule.in_force(date(2026, 8, 1)) == v1


def test_of_two_versions_from_the_same_day_the_later_published_is_in_force() -> None:
    v1, v2, v3 = version(1, JAN), version(2, JAN), version(3, date(2025, 1, 1))
    assert FeeSchedule(versions=(v1, v2, v3)).in_force(JUL) == v2
    assert FeeSchedule(versions=(v2, v1)).in_force(JUL) == v2  # whatever the order folded


def test_the_fold_keeps_every_version_as_published() -> None:
    v1, v2 = version(1, JAN), version(2, JUL)
    assert fee_schedule.fold([v1, v2]) == FeeSchedule(versions=(v1, v2))


PLAIN = Fee(code="99213", amount_cents=12_000)
WITH_25 = Fee(code="99213", modifier="25", amount_cents=12_500)
TECHNICAL = Fee(code="93000", modifier="TC", amount_cents=900)


@pytest.mark.parametrize("order", [(PLAIN, WITH_25, TECHNICAL), (TECHNICAL, WITH_25, PLAIN)])
def test_the_fee_with_the_lines_first_modifier_else_the_codes_plain_fee(
    order: tuple[Fee, ...],
) -> None:
    listed = version(1, JAN, *order)
    assert fee_of(listed, "99213", ()) == PLAIN
    assert fee_of(listed, "99213", ("25",)) == WITH_25
    assert fee_of(listed, "99213", ("25", "59")) == WITH_25
    assert fee_of(listed, "99213", ("59", "25")) == PLAIN  # priced by the first modifier
    assert fee_of(listed, "99213", ("GT",)) == PLAIN
    assert fee_of(listed, "93000", ("TC",)) == TECHNICAL
    assert fee_of(listed, "93000", ()) is None  # only the technical component is listed
    assert fee_of(listed, "93000", ("26",)) is None
    assert fee_of(listed, "99214", ()) is None
