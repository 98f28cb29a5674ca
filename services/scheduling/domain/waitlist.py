"""A site's waitlist: patients waiting for an earlier slot, and offers of the slots others free.

One stream per site holds every entry and every offer, so "a freed slot is offered to one entry
at a time, first come first served" and "an entry holds one open offer at a time" are decided
on one state. An offer that is declined, lapses (the slot was taken meanwhile), expires, or
whose entry is removed passes the slot on to the next matching entry, never to one that had it
already. The domain knows no time zones: a freed slot arrives with its site-local date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.scheduling.domain.calendar import check_calendar
from services.scheduling.domain.events import (
    WaitlistEntryAdded,
    WaitlistEntryRemoved,
    WaitlistOfferAccepted,
    WaitlistOfferDeclined,
    WaitlistOfferExpired,
    WaitlistOfferLapsed,
    WaitlistOfferMade,
)
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

EntryStatus = Literal["waiting", "booked", "removed"]
OfferStatus = Literal["open", "accepted", "declined", "lapsed", "expired"]
_CLOSED_ENTRY = {"booked": "was booked from the waitlist", "removed": "was removed"}
_CLOSED_OFFER = {
    "accepted": "was accepted",
    "declined": "was declined",
    "lapsed": "lapsed: the slot was taken",
    "expired": "expired",
}


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Slot(Command):
    """A freed slot: where, with whom and when, and the cancelled appointment it comes from."""

    source_appointment_id: str
    site_id: str
    provider_id: str
    room_id: str | None
    visit_type_id: str
    start: AwareDatetime
    end: AwareDatetime
    day: date  # the site's local date of `start`


class NewOffer(Command):
    """What an offer made by this command is given: its id, the id its appointment would
    have, and how long it stays open (capped at the slot's start)."""

    offer_id: str
    appointment_id: str
    minutes: int = Field(gt=0)


class AddEntry(Command):
    entry_id: str
    patient_id: str
    site_id: str
    visit_type_id: str
    provider_id: str | None
    earliest: date
    latest: date
    today: date  # the site's local date now
    added_at: AwareDatetime


class RemoveEntry(Command):
    entry_id: str
    at: AwareDatetime
    offer: NewOffer  # for the next entry, should the removed one hold an offer


class OfferSlot(Command):
    slot: Slot
    at: AwareDatetime
    offer: NewOffer


class AcceptOffer(Command):
    """Record that the offer's appointment was booked. `at` is when the patient accepted."""

    offer_id: str
    at: AwareDatetime


class DeclineOffer(Command):
    offer_id: str
    at: AwareDatetime
    offer: NewOffer


class LapseOffer(Command):
    offer_id: str
    reason: str
    at: AwareDatetime
    offer: NewOffer


class ExpireOffer(Command):
    offer_id: str
    at: AwareDatetime
    offer: NewOffer


WaitlistCommand = (
    AddEntry | RemoveEntry | OfferSlot | AcceptOffer | DeclineOffer | LapseOffer | ExpireOffer
)


@dataclass(frozen=True)
class Entry:
    added: WaitlistEntryAdded
    status: EntryStatus = "waiting"
    offer_id: str | None = None  # the open offer it holds

    def matches(self, slot: Slot) -> bool:
        a = self.added
        return (
            self.status == "waiting"
            and self.offer_id is None
            and a.visit_type_id == slot.visit_type_id
            and a.provider_id in (None, slot.provider_id)
            and a.earliest <= slot.day <= a.latest
        )


@dataclass(frozen=True)
class Offer:
    made: WaitlistOfferMade
    status: OfferStatus = "open"

    @property
    def slot(self) -> Slot:
        return Slot(**self.made.model_dump(include=set(Slot.model_fields)))


@dataclass(frozen=True)
class Waitlist:
    entries: Mapping[str, Entry] = field(default_factory=dict)
    offers: Mapping[str, Offer] = field(default_factory=dict)
    # Per freed slot (its cancelled appointment): the entries it was offered to.
    offered: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def waiting(self) -> list[Entry]:
        """Open entries, first added first; the stream's order breaks ties."""
        open_entries = [e for e in self.entries.values() if e.status == "waiting"]
        return sorted(open_entries, key=lambda e: e.added.added_at)

    def next_for(self, slot: Slot) -> Entry | None:
        """The first entry that matches the slot and has not had it offered yet."""
        had = self.offered.get(slot.source_appointment_id, frozenset())
        return next(
            (e for e in self.waiting() if e.matches(slot) and e.added.entry_id not in had), None
        )


def evolve(state: Waitlist, event: DomainEvent) -> Waitlist:
    match event:
        case WaitlistEntryAdded():
            return replace(state, entries={**state.entries, event.entry_id: Entry(event)})
        case WaitlistEntryRemoved():
            return _entry(state, event.entry_id, status="removed")
        case WaitlistOfferMade():
            source = event.source_appointment_id
            had = state.offered.get(source, frozenset())
            state = replace(
                state,
                offers={**state.offers, event.offer_id: Offer(event)},
                offered={**state.offered, source: had | {event.entry_id}},
            )
            return _entry(state, event.entry_id, offer_id=event.offer_id)
        case WaitlistOfferAccepted():
            state = _offer(state, event.offer_id, "accepted")
            return _entry(state, event.entry_id, status="booked", offer_id=None)
        case WaitlistOfferDeclined():
            return _entry(_offer(state, event.offer_id, "declined"), event.entry_id, offer_id=None)
        case WaitlistOfferLapsed():
            return _entry(_offer(state, event.offer_id, "lapsed"), event.entry_id, offer_id=None)
        case WaitlistOfferExpired():
            return _entry(_offer(state, event.offer_id, "expired"), event.entry_id, offer_id=None)
    return state


def _entry(state: Waitlist, entry_id: str, **changes: object) -> Waitlist:
    entry = replace(state.entries[entry_id], **changes)  # type: ignore[arg-type]
    return replace(state, entries={**state.entries, entry_id: entry})


def _offer(state: Waitlist, offer_id: str, status: OfferStatus) -> Waitlist:
    offer = replace(state.offers[offer_id], status=status)
    return replace(state, offers={**state.offers, offer_id: offer})


def decide(state: Waitlist, command: WaitlistCommand) -> Sequence[DomainEvent]:
    check_calendar(command)
    match command:
        case AddEntry():
            return _add(state, command)
        case RemoveEntry():
            return _remove(state, command)
        case OfferSlot():
            if command.slot.source_appointment_id in state.offered:
                return []  # this slot was offered before: a redelivered cancellation
            return _offer_next(state, command.slot, command.at, command.offer)
        case AcceptOffer():
            return _accept(state, command)
        case DeclineOffer():
            offer = open_offer(state, command.offer_id)
            declined = WaitlistOfferDeclined(**_about(offer), declined_at=command.at)
            return _pass_on(state, offer, declined, command.at, command.offer)
        case LapseOffer():
            offer = _offer_of(state, command.offer_id)
            if offer.status != "open":
                return []  # closed already: nothing lapses twice
            lapsed = WaitlistOfferLapsed(
                **_about(offer), reason=command.reason, lapsed_at=command.at
            )
            return _pass_on(state, offer, lapsed, command.at, command.offer)
        case ExpireOffer():
            offer = _offer_of(state, command.offer_id)
            if offer.status != "open" or command.at < offer.made.expires_at:
                return []  # answered, or not due yet: the timer may look again
            expired = WaitlistOfferExpired(**_about(offer), expired_at=command.at)
            return _pass_on(state, offer, expired, command.at, command.offer)


def _add(state: Waitlist, c: AddEntry) -> Sequence[DomainEvent]:
    added = WaitlistEntryAdded(**c.model_dump(exclude={"today"}))
    existing = state.entries.get(c.entry_id)
    if existing is not None:
        same = existing.added.model_dump(exclude={"added_at"}) == added.model_dump(
            exclude={"added_at"}
        )
        if same:
            return []  # the same entry again changes nothing
        raise Rejected(f"waitlist entry {c.entry_id} already exists")
    if c.latest < c.earliest:
        raise Invalid("the latest date wanted comes before the earliest")
    if c.latest < c.today:
        raise Invalid("the latest date wanted has passed")
    for entry in state.waiting():
        a = entry.added
        key = (a.patient_id, a.visit_type_id, a.provider_id)
        if key == (c.patient_id, c.visit_type_id, c.provider_id):
            raise Rejected(
                f"patient {c.patient_id} already waits for this visit (entry {a.entry_id})"
            )
    return [added]


def _remove(state: Waitlist, c: RemoveEntry) -> Sequence[DomainEvent]:
    entry = state.entries.get(c.entry_id)
    if entry is None:
        raise NotFound(f"waitlist entry {c.entry_id} not found")
    if entry.status != "waiting":
        raise Rejected(f"waitlist entry {c.entry_id} {_CLOSED_ENTRY[entry.status]}")
    removed = WaitlistEntryRemoved(
        entry_id=c.entry_id, patient_id=entry.added.patient_id, removed_at=c.at
    )
    if entry.offer_id is None:
        return [removed]
    # Leaving the list while holding an offer declines it; the slot goes to the next entry.
    offer = state.offers[entry.offer_id]
    declined = WaitlistOfferDeclined(**_about(offer), declined_at=c.at)
    after = evolve(evolve(state, declined), removed)
    return [declined, removed, *_offer_next(after, offer.slot, c.at, c.offer)]


def _accept(state: Waitlist, c: AcceptOffer) -> Sequence[DomainEvent]:
    offer = _offer_of(state, c.offer_id)
    if offer.status == "accepted":
        return []  # accepted already: a retry
    check_acceptable(offer, c.at)
    return [
        WaitlistOfferAccepted(
            **_about(offer), appointment_id=offer.made.appointment_id, accepted_at=c.at
        )
    ]


def check_acceptable(offer: Offer, at: datetime) -> None:
    """Refuse to accept an offer that is closed, or past its expiry."""
    if offer.status != "open":
        raise Rejected(f"offer {offer.made.offer_id} {_CLOSED_OFFER[offer.status]}")
    if at > offer.made.expires_at:
        raise Rejected(
            f"offer {offer.made.offer_id} expired at {offer.made.expires_at.isoformat()}"
        )


def _offer_of(state: Waitlist, offer_id: str) -> Offer:
    offer = state.offers.get(offer_id)
    if offer is None:
        raise NotFound(f"offer {offer_id} not found")
    return offer


def open_offer(state: Waitlist, offer_id: str) -> Offer:
    offer = _offer_of(state, offer_id)
    if offer.status != "open":
        raise Rejected(f"offer {offer_id} {_CLOSED_OFFER[offer.status]}")
    return offer


def _about(offer: Offer) -> dict[str, str]:
    made = offer.made
    return {"offer_id": made.offer_id, "entry_id": made.entry_id, "patient_id": made.patient_id}


def _pass_on(
    state: Waitlist, offer: Offer, closed: DomainEvent, at: datetime, new: NewOffer
) -> Sequence[DomainEvent]:
    """The offer closes; its slot goes to the next matching entry, if any."""
    return [closed, *_offer_next(evolve(state, closed), offer.slot, at, new)]


def _offer_next(state: Waitlist, slot: Slot, at: datetime, new: NewOffer) -> list[DomainEvent]:
    if slot.start <= at:
        return []  # the slot has begun: too late to offer it
    entry = state.next_for(slot)
    if entry is None:
        return []
    return [
        WaitlistOfferMade(
            offer_id=new.offer_id,
            entry_id=entry.added.entry_id,
            patient_id=entry.added.patient_id,
            appointment_id=new.appointment_id,
            **slot.model_dump(),
            offered_at=at,
            # Whole seconds: read models compare expiries as text (UTC, `Z`).
            expires_at=min(
                (at + timedelta(minutes=new.minutes)).replace(microsecond=0), slot.start
            ),
        )
    ]


waitlist = Decider[Waitlist, WaitlistCommand](Waitlist(), evolve, decide)
