"""The charge decider: given these events, when this command, then these events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.billing.domain import charges, sites
from services.billing.domain.charges import (
    Charge,
    CodedLine,
    CodingIssues,
    CorrectCharge,
    CreateCharge,
    HoldCharge,
    Pricing,
    ReleaseCharge,
    procedure,
)
from services.billing.domain.events import (
    ChargeCorrected,
    ChargeCreated,
    ChargeHeld,
    ChargeLine,
    ChargeReleased,
    Fee,
    FeeScheduleVersionPublished,
    SiteZoneLearnt,
)
from services.billing.domain.fees import FeeSchedule
from services.billing.domain.sites import LearnSiteZone
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent
from tests.unit.test_billing_coding import Book

AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
DAY = date(2026, 11, 26)


def version(
    number: int,
    effective_from: date,
    fees: dict[str, int],
    modifier_fees: dict[str, int] | None = None,
) -> FeeScheduleVersionPublished:
    listed = [Fee(code=c, amount_cents=a) for c, a in fees.items()]
    listed += [
        Fee(code=c.split("-")[0], modifier=c.split("-")[1], amount_cents=a)
        for c, a in (modifier_fees or {}).items()
    ]
    return FeeScheduleVersionPublished(
        payer_id="acme",
        schedule_version=number,
        effective_from=effective_from,
        fees=tuple(listed),
        published_at=AT,
    )


V1 = version(1, date(2026, 1, 1), {"99213": 10_000, "99214": 15_000}, {"99213-25": 11_000})
V2 = version(2, date(2026, 12, 1), {"99213": 20_000, "99214": 25_000, "99215": 30_000})


def pricing(*versions: FeeScheduleVersionPublished) -> Pricing:
    return Pricing(
        payer_id="acme",
        payer_name="Acme Health",
        schedule=FeeSchedule(versions=versions or (V1, V2)),
        book=Book(),
    )


def create(
    procedures: tuple[str, ...] = ("99213",),
    diagnoses: tuple[str, ...] = ("E11.9", "I10"),
    on: date = DAY,
    priced: Pricing | None = None,
    learnt_from: str = "evt-1",
) -> CreateCharge:
    return CreateCharge(
        charge_id="appt-1",
        appointment_id="appt-1",
        patient_id="pat-1",
        site_id="north",
        provider_id="dr-a",
        date_of_service=on,
        procedures=procedures,
        diagnoses=diagnoses,
        pricing=priced or pricing(),
        created_at=AT,
        learnt_from=learnt_from,
    )


def given(*commands: charges.ChargeCommand) -> tuple[Charge, list[DomainEvent]]:
    state = charges.charge.initial
    recorded: list[DomainEvent] = []
    for command in commands:
        events = charges.charge.decide(state, command)
        recorded += events
        state = charges.charge.fold([*recorded])
    return state, recorded


def when(state: Charge, command: charges.ChargeCommand) -> Sequence[DomainEvent]:
    return charges.charge.decide(state, command)


def correct(
    diagnoses: tuple[str, ...] = ("I10",),
    lines: tuple[CodedLine, ...] = (CodedLine(code="99214", diagnosis_pointers=(1,)),),
    priced: Pricing | None = None,
) -> CorrectCharge:
    return CorrectCharge(
        charge_id="appt-1",
        diagnoses=diagnoses,
        lines=lines,
        reason="coded from the note",
        pricing=priced or pricing(),
        corrected_at=AT,
    )


def release(priced: Pricing | None = None) -> ReleaseCharge:
    return ReleaseCharge(charge_id="appt-1", pricing=priced or pricing(), released_at=AT)


# -------------------------------------------------------------------------------- create


def test_a_clean_visit_is_charged_and_released_in_one_append() -> None:
    events = when(Charge(), create(procedures=("99213", "99214")))
    assert [type(e) for e in events] == [ChargeCreated, ChargeReleased]
    created = events[0]
    assert isinstance(created, ChargeCreated)
    assert created.lines == (
        ChargeLine(line_id="1", code="99213", diagnosis_pointers=(1, 2), fee_cents=10_000),
        ChargeLine(line_id="2", code="99214", diagnosis_pointers=(1, 2), fee_cents=15_000),
    )
    assert (created.payer_id, created.fee_schedule_version) == ("acme", 1)
    assert created.issues == ()
    assert created.learnt_from == "evt-1"


def test_modifiers_come_as_scheduling_writes_them_and_price_by_the_first() -> None:
    assert procedure("99213-25-59") == ("99213", ("25", "59"))
    created = when(Charge(), create(procedures=("99213-25",)))[0]
    assert isinstance(created, ChargeCreated)
    assert created.lines[0].modifiers == ("25",)
    assert created.lines[0].fee_cents == 11_000


def test_pointers_default_to_the_first_four_diagnoses() -> None:
    six = ("E11.9", "I10", "J45.909", "E11", "I10", "E11.9")
    created = when(Charge(), create(diagnoses=six))[0]
    assert isinstance(created, ChargeCreated)
    assert created.lines[0].diagnosis_pointers == (1, 2, 3, 4)


def test_priced_by_the_version_in_force_on_the_date_of_service() -> None:
    created = when(Charge(), create(on=date(2026, 12, 1)))[0]
    assert isinstance(created, ChargeCreated)
    assert (created.fee_schedule_version, created.lines[0].fee_cents) == (2, 20_000)


def test_a_charge_with_issues_is_held_for_coding() -> None:
    events = when(Charge(), create(procedures=("99215",), diagnoses=("E11",)))
    assert [type(e) for e in events] == [ChargeCreated, ChargeHeld]
    created, held = events
    assert isinstance(created, ChargeCreated)
    assert isinstance(held, ChargeHeld)
    assert held.reason == "coding"
    assert [(i.line_id, i.problem) for i in created.issues] == [
        (None, "E11 is a category, not a billable code: use a more specific code under it"),
        ("1", "no fee for 99215 in Acme Health's schedule v1"),
    ]


def test_no_schedule_in_force_prices_nothing_and_holds() -> None:
    events = when(Charge(), create(on=date(2025, 6, 1)))
    created = events[0]
    assert isinstance(created, ChargeCreated)
    assert created.fee_schedule_version is None
    assert created.lines[0].fee_cents == 0
    assert isinstance(events[1], ChargeHeld)


def test_a_visit_completed_again_records_nothing() -> None:
    state, _ = given(create())
    assert when(state, create()) == []
    # a re-completion with other codes: a biller corrects instead
    assert when(state, create(procedures=("99214",), learnt_from="evt-2")) == []


# ------------------------------------------------------------------------------- correct


def test_a_correction_is_priced_by_the_charge_s_own_version_not_a_later_one() -> None:
    held, _ = given(create(procedures=("99215",)))  # no fee in v1: held for coding
    assert held.status == "held"
    assert held.fee_schedule_version == 1
    # published since, in force on the same date of service: it does not reprice the charge
    later = version(3, date(2026, 11, 1), {"99214": 99_000})
    events = when(held, correct(priced=pricing(V1, V2, later)))
    assert len(events) == 1
    corrected = events[0]
    assert isinstance(corrected, ChargeCorrected)
    assert corrected.lines[0].fee_cents == 15_000  # v1's, though v2 is published
    assert corrected.fee_schedule_version == 1
    assert corrected.issues == ()


def test_a_correction_may_leave_issues_which_it_records() -> None:
    held, _ = given(create(procedures=("99215",)))
    lines = (CodedLine(code="99215", diagnosis_pointers=(2,)),)
    corrected = when(held, correct(lines=lines))[0]
    assert isinstance(corrected, ChargeCorrected)
    assert [i.problem for i in corrected.issues] == [
        "diagnosis pointer 2 points at no diagnosis (the charge has 1)",
        "no fee for 99215 in Acme Health's schedule v1",
    ]


def test_a_charge_made_with_no_schedule_is_priced_by_the_one_in_force_when_corrected() -> None:
    early = date(2025, 6, 1)
    held, _ = given(create(on=early, priced=pricing(V2)))  # nothing in force in 2025
    v0 = version(3, date(2025, 1, 1), {"99214": 9_000})
    corrected = when(held, correct(priced=pricing(v0, V2)))[0]
    assert isinstance(corrected, ChargeCorrected)
    assert (corrected.fee_schedule_version, corrected.lines[0].fee_cents) == (3, 9_000)
    state = charges.charge.evolve(held, corrected)
    assert state.fee_schedule_version == 3


def test_the_same_codes_again_record_nothing() -> None:
    state, _ = given(create(procedures=("99215",)), correct())
    assert when(state, correct()) == []


def test_a_released_charge_is_held_before_it_is_corrected() -> None:
    released, _ = given(create())
    with pytest.raises(Rejected, match="hold it before correcting"):
        when(released, correct())


def test_a_correction_gives_its_reason() -> None:
    held, _ = given(create(procedures=("99215",)))
    blank = CorrectCharge(
        charge_id="appt-1",
        diagnoses=("I10",),
        lines=(CodedLine(code="99214", diagnosis_pointers=(1,)),),
        reason="  ",
        pricing=pricing(),
        corrected_at=AT,
    )
    with pytest.raises(Invalid):
        when(held, blank)


# --------------------------------------------------------------------------- hold, release


def test_hold_then_release() -> None:
    released, _ = given(create())
    hold = HoldCharge(charge_id="appt-1", reason="waiting for the op note", held_at=AT)
    held_events = when(released, hold)
    assert held_events == [
        ChargeHeld(charge_id="appt-1", reason="waiting for the op note", held_at=AT)
    ]
    held = charges.charge.evolve(released, held_events[0])
    assert (held.status, held.hold_reason) == ("held", "waiting for the op note")
    with pytest.raises(Rejected, match="held already"):
        when(held, hold)
    assert when(held, release()) == [ChargeReleased(charge_id="appt-1", released_at=AT)]


def test_release_is_refused_while_issues_remain_and_lists_them() -> None:
    held, _ = given(create(procedures=("99215",), diagnoses=("E11",)))
    with pytest.raises(CodingIssues) as refused:
        when(held, release())
    assert [i.code for i in refused.value.issues] == ["E11", "99215"]
    assert "line 1: no fee for 99215 in Acme Health's schedule v1" in refused.value.reason
    fixed, _ = given(
        create(procedures=("99215",), diagnoses=("E11",)),
        correct(diagnoses=("E11.9",)),
    )
    assert [type(e) for e in when(fixed, release())] == [ChargeReleased]


def test_a_released_charge_is_not_released_again() -> None:
    released, _ = given(create())
    with pytest.raises(Rejected, match="released already"):
        when(released, release())


def test_no_charge_no_steps() -> None:
    with pytest.raises(NotFound):
        when(Charge(), release())
    with pytest.raises(NotFound):
        when(Charge(), HoldCharge(charge_id="appt-1", reason="x", held_at=AT))
    with pytest.raises(NotFound):
        when(Charge(), correct())


# ------------------------------------------------------------------------ site time zones


def test_a_site_s_time_zone_is_learnt_once_per_event_and_changes_with_a_new_one() -> None:
    learn = LearnSiteZone(site_id="north", time_zone="America/New_York", learnt_from="e1")
    events = sites.site.decide(sites.Site(), learn)
    assert events == [
        SiteZoneLearnt(site_id="north", time_zone="America/New_York", learnt_from="e1")
    ]
    state = sites.site.fold(events)
    assert sites.site.decide(state, learn) == []  # redelivered
    same = learn.model_copy(update={"learnt_from": "e2"})
    assert sites.site.decide(state, same) == []  # the same zone again
    moved = LearnSiteZone(site_id="north", time_zone="America/Chicago", learnt_from="e3")
    assert len(sites.site.decide(state, moved)) == 1
