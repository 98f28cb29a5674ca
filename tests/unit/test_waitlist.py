"""Given these events, when this command, then these events: a site's waitlist and the offers
of freed slots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.scheduling.domain.events import (
    WaitlistEntryAdded,
    WaitlistEntryRemoved,
    WaitlistOfferAccepted,
    WaitlistOfferDeclined,
    WaitlistOfferExpired,
    WaitlistOfferLapsed,
    WaitlistOfferMade,
)
from services.scheduling.domain.waitlist import (
    AcceptOffer,
    AddEntry,
    DeclineOffer,
    ExpireOffer,
    LapseOffer,
    NewOffer,
    OfferSlot,
    RemoveEntry,
    Slot,
    WaitlistCommand,
    waitlist,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SLOT_START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 9:00 in New York


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def added(entry_id: str, minute: int = 0, **change: Any) -> WaitlistEntryAdded:
    fields: dict[str, Any] = {
        "entry_id": entry_id,
        "patient_id": f"pat-{entry_id}",
        "site_id": "north",
        "visit_type_id": "follow-up",
        "provider_id": None,
        "earliest": date(2026, 11, 30),
        "latest": date(2026, 12, 4),
        "added_at": at(minute),
        **change,
    }
    return WaitlistEntryAdded(**fields)


def add(entry_id: str, minute: int = 0, **change: Any) -> AddEntry:
    event = added(entry_id, minute, **change)
    return AddEntry(**event.model_dump(), today=date(2026, 11, 27))


def slot(source: str = "appt-1", **change: Any) -> Slot:
    fields: dict[str, Any] = {
        "source_appointment_id": source,
        "site_id": "north",
        "provider_id": "dr-a",
        "room_id": "exam-1",
        "visit_type_id": "follow-up",
        "start": SLOT_START,
        "end": SLOT_START + timedelta(minutes=30),
        "day": date(2026, 12, 1),
        **change,
    }
    return Slot(**fields)


def new(offer_id: str) -> NewOffer:
    return NewOffer(offer_id=offer_id, appointment_id=f"a-{offer_id}", minutes=120)


def offer_slot(offer_id: str, minute: int = 10, **change: Any) -> OfferSlot:
    return OfferSlot(slot=slot(**change), at=at(minute), offer=new(offer_id))


def made(offer_id: str, entry_id: str, minute: int = 10, **change: Any) -> WaitlistOfferMade:
    return WaitlistOfferMade(
        offer_id=offer_id,
        entry_id=entry_id,
        patient_id=f"pat-{entry_id}",
        appointment_id=f"a-{offer_id}",
        **slot(**change).model_dump(),
        offered_at=at(minute),
        expires_at=at(minute + 120),
    )


def about(offer_id: str, entry_id: str) -> dict[str, str]:
    return {"offer_id": offer_id, "entry_id": entry_id, "patient_id": f"pat-{entry_id}"}


def when(given: Sequence[DomainEvent], command: WaitlistCommand) -> list[DomainEvent]:
    return list(waitlist.decide(waitlist.fold(given), command))


# --------------------------------------------------------------------------------- entries


def test_a_patient_joins_the_waitlist() -> None:
    assert when([], add("e1")) == [added("e1")]


def test_the_same_entry_again_changes_nothing() -> None:
    assert when([added("e1")], add("e1", minute=5)) == []


def test_another_entry_under_the_same_id_is_refused() -> None:
    with pytest.raises(Rejected, match="already exists"):
        when([added("e1")], add("e1", visit_type_id="new-patient"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"earliest": date(2026, 12, 5)}, "before the earliest"),
        ({"earliest": date(2026, 11, 1), "latest": date(2026, 11, 26)}, "has passed"),
    ],
)
def test_a_range_of_dates_that_cannot_be_served_is_invalid(
    change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Invalid, match=reason):
        when([], add("e1", **change))


def test_a_patient_waits_for_the_same_visit_once() -> None:
    given = [added("e1")]
    with pytest.raises(Rejected, match="already waits"):
        when(given, add("e2", patient_id="pat-e1"))
    assert when(given, add("e2", patient_id="pat-e1", provider_id="dr-a")) != []


def test_staff_remove_an_entry_once() -> None:
    removed = WaitlistEntryRemoved(entry_id="e1", patient_id="pat-e1", removed_at=at(5))
    assert when([added("e1")], RemoveEntry(entry_id="e1", at=at(5), offer=new("o1"))) == [removed]
    with pytest.raises(Rejected, match="was removed"):
        when([added("e1"), removed], RemoveEntry(entry_id="e1", at=at(6), offer=new("o1")))
    with pytest.raises(NotFound):
        when([], RemoveEntry(entry_id="e1", at=at(6), offer=new("o1")))


# ---------------------------------------------------------------------------------- offers


def test_a_freed_slot_goes_to_the_first_entry_added() -> None:
    given = [added("e2", minute=2), added("e1", minute=1), added("e3", minute=3)]
    assert when(given, offer_slot("o1")) == [made("o1", "e1")]


@pytest.mark.parametrize(
    ("entry", "matches"),
    [
        ({}, True),
        ({"provider_id": "dr-a"}, True),
        ({"provider_id": "dr-b"}, False),
        ({"visit_type_id": "new-patient"}, False),
        ({"earliest": date(2026, 12, 1), "latest": date(2026, 12, 1)}, True),
        ({"earliest": date(2026, 12, 2)}, False),
        ({"latest": date(2026, 11, 30)}, False),
    ],
)
def test_an_entry_matches_visit_type_provider_and_dates(
    entry: dict[str, Any], matches: bool
) -> None:
    offered = when([added("e1", **entry)], offer_slot("o1"))
    assert offered == ([made("o1", "e1")] if matches else [])


def test_the_slots_local_date_decides_not_its_utc_date() -> None:
    # 20:00 on 30 November in New York is 1 December in UTC: the slot's day is 30 November.
    evening = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    late = slot(start=evening, end=evening + timedelta(minutes=30), day=date(2026, 11, 30))
    command = OfferSlot(slot=late, at=at(10), offer=new("o1"))
    assert when([added("e1", earliest=date(2026, 12, 1))], command) == []
    assert when([added("e1", latest=date(2026, 11, 30))], command) != []


def test_an_entry_holding_an_offer_is_passed_over() -> None:
    given = [
        added("e1", minute=1),
        added("e2", minute=2),
        made("o1", "e1", source_appointment_id="x"),
    ]
    assert when(given, offer_slot("o2")) == [made("o2", "e2")]


def test_the_same_cancellation_never_makes_two_offers() -> None:
    given = [added("e1"), added("e2", minute=1)]
    first = when(given, offer_slot("o1"))
    assert first == [made("o1", "e1")]
    assert when([*given, *first], offer_slot("o2", minute=11)) == []


def test_nobody_matching_means_no_offer() -> None:
    assert when([], offer_slot("o1")) == []
    assert when([added("e1", visit_type_id="new-patient")], offer_slot("o1")) == []


def test_an_offer_expires_at_the_slots_start_at_the_latest() -> None:
    soon = NOW + timedelta(minutes=30)
    [offer] = when([added("e1")], offer_slot("o1", start=soon, end=soon + timedelta(minutes=30)))
    assert isinstance(offer, WaitlistOfferMade)
    assert offer.expires_at == soon


def test_a_slot_that_has_begun_is_not_offered() -> None:
    started = NOW - timedelta(minutes=5)
    command = offer_slot("o1", start=started, end=started + timedelta(minutes=30))
    assert when([added("e1")], command) == []


# ------------------------------------------------------------------------- answering offers


def test_accepting_closes_the_entry() -> None:
    given = [added("e1"), made("o1", "e1")]
    accepted = WaitlistOfferAccepted(**about("o1", "e1"), appointment_id="a-o1", accepted_at=at(20))
    assert when(given, AcceptOffer(offer_id="o1", at=at(20))) == [accepted]
    state = waitlist.fold([*given, accepted])
    assert state.entries["e1"].status == "booked"
    assert state.waiting() == []
    assert when([*given, accepted], AcceptOffer(offer_id="o1", at=at(21))) == []  # a retry


def test_an_offer_past_its_expiry_cannot_be_accepted() -> None:
    given = [added("e1"), made("o1", "e1")]
    with pytest.raises(Rejected, match="expired"):
        when(given, AcceptOffer(offer_id="o1", at=at(131)))
    with pytest.raises(NotFound):
        when(given, AcceptOffer(offer_id="o9", at=at(20)))


def test_a_declined_offer_passes_to_the_next_entry() -> None:
    given = [added("e1"), added("e2", minute=1), added("e3", minute=2), made("o1", "e1")]
    declined = WaitlistOfferDeclined(**about("o1", "e1"), declined_at=at(30))
    then = when(given, DeclineOffer(offer_id="o1", at=at(30), offer=new("o2")))
    assert then == [declined, made("o2", "e2", minute=30)]
    # e2 declines too: e3 is next, and e1 (who had it already) is never offered it again.
    declined2 = WaitlistOfferDeclined(**about("o2", "e2"), declined_at=at(40))
    after = when([*given, *then], DeclineOffer(offer_id="o2", at=at(40), offer=new("o3")))
    assert after == [declined2, made("o3", "e3", minute=40)]
    last = when([*given, *then, *after], DeclineOffer(offer_id="o3", at=at(50), offer=new("o4")))
    assert last == [WaitlistOfferDeclined(**about("o3", "e3"), declined_at=at(50))]
    # The decliners keep their places for other slots.
    state = waitlist.fold([*given, *then, *after, *last])
    assert [e.added.entry_id for e in state.waiting()] == ["e1", "e2", "e3"]


def test_a_closed_offer_cannot_be_declined_or_accepted() -> None:
    declined = WaitlistOfferDeclined(**about("o1", "e1"), declined_at=at(30))
    given = [added("e1"), made("o1", "e1"), declined]
    with pytest.raises(Rejected, match="was declined"):
        when(given, DeclineOffer(offer_id="o1", at=at(31), offer=new("o2")))
    with pytest.raises(Rejected, match="was declined"):
        when(given, AcceptOffer(offer_id="o1", at=at(31)))


def test_a_lapsed_offer_passes_on_once() -> None:
    given = [added("e1"), added("e2", minute=1), made("o1", "e1")]
    lapse = LapseOffer(
        offer_id="o1", reason="provider dr-a is already booked", at=at(30), offer=new("o2")
    )
    then = when(given, lapse)
    assert then == [
        WaitlistOfferLapsed(
            **about("o1", "e1"), reason="provider dr-a is already booked", lapsed_at=at(30)
        ),
        made("o2", "e2", minute=30),
    ]
    assert when([*given, *then], lapse) == []


def test_an_overdue_offer_expires_and_passes_on() -> None:
    given = [added("e1"), added("e2", minute=1), made("o1", "e1")]
    assert when(given, ExpireOffer(offer_id="o1", at=at(100), offer=new("o2"))) == []  # not due
    then = when(given, ExpireOffer(offer_id="o1", at=at(130), offer=new("o2")))
    assert then == [
        WaitlistOfferExpired(**about("o1", "e1"), expired_at=at(130)),
        made("o2", "e2", minute=130),
    ]
    assert when([*given, *then], ExpireOffer(offer_id="o1", at=at(140), offer=new("o3"))) == []


def test_removing_an_entry_holding_an_offer_passes_the_slot_on() -> None:
    given = [added("e1"), added("e2", minute=1), made("o1", "e1")]
    then = when(given, RemoveEntry(entry_id="e1", at=at(30), offer=new("o2")))
    assert then == [
        WaitlistOfferDeclined(**about("o1", "e1"), declined_at=at(30)),
        WaitlistEntryRemoved(entry_id="e1", patient_id="pat-e1", removed_at=at(30)),
        made("o2", "e2", minute=30),
    ]
