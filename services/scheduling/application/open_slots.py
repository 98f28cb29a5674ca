"""Open-slot search: the earliest times a visit fits, with the provider and a suitable room
both free, inside the provider's availability and the site's opening hours.

A query, not a command: everything it reads may lag a little, and its answer is advice (the
booking that follows is decided on the site's day, and answers 409 if someone took the slot in
between). It reads the site's rooms and its providers' states in one query of the availability
read model (projections/availability.py), then the site-day boards one day at a time, stopping
at the first day that fills `limit`. What it makes of a document (a provider's decoded state and
their availability on a day, a board's parsed times) it keeps per document revision: a search
asks the store for the revisions and decodes only the documents that changed since. The site and
visit type come from the directory, which reads each from its stream once per process (they
never change).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.scheduling.application.directory import Directory
from services.scheduling.domain import providers
from services.scheduling.domain.calendar import Interval, merge
from services.scheduling.domain.events import Hours
from services.scheduling.domain.site_day import HOLDING
from services.scheduling.projections.availability import (
    BOOKABLE,
    PROVIDERS,
    provider_at_site_id,
    site_prefix,
    site_range,
    state_from,
)
from services.scheduling.projections.availability import PROJECTION as AVAILABILITY
from services.scheduling.projections.day_views import BOARD_PROJECTION, SITE_DAYS, site_day_id
from shared.clock import Clock
from shared.documents.port import Document, Filter
from shared.domain import Invalid
from shared.readmodels import ReadModels, physical

MAX_DAYS = 92
MAX_SLOTS = 200
_REMEMBERED = 10_000  # decoded availability documents and provider states kept per process
_BOARDS_REMEMBERED = 2_000  # parsed site-day boards (a few hundred appointments at most each)
_DAYS_REMEMBERED = 50_000  # a provider's availability on a day, per document revision


# Which revision of which read-model document a provider's state came from (collection,
# document id, revision); None for a state folded from the provider's stream.
Revision = tuple[str, str, int] | None


@dataclass(frozen=True)
class Slot:
    provider_id: str
    room_id: str | None
    start: datetime
    end: datetime


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)  # Python 3.11 reads the "Z" of UTC


class Busy:
    """Times one provider or room is held on a day, merged and sorted: a free check is a
    binary search, not a scan."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, intervals: list[Interval]) -> None:
        merged = merge(intervals)
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]

    def free(self, start: datetime, end: datetime) -> bool:
        i = bisect_right(self._ends, start)  # the first interval ending after `start`
        return i == len(self._starts) or end <= self._starts[i]


_NOTHING = Busy([])


class OpenSlots:
    def __init__(self, directory: Directory, read_models: ReadModels, clock: Clock) -> None:
        self._directory = directory
        self._read_models = read_models
        self._clock = clock
        # (collection, document id) -> (revision, state): a document decodes once per revision.
        self._states: dict[tuple[str, str], tuple[int, providers.Provider]] = {}
        # (collection, document id) -> (revision, document): a `bookable` document is decoded
        # once per revision (read only, never changed here).
        self._docs: dict[tuple[str, str], tuple[int, Document]] = {}
        # (collection, document id) -> (revision, board): a board's times parse once per revision.
        self._boards: dict[tuple[str, str], tuple[int, Board]] = {}
        # (collection, document id, revision, day) -> the provider's availability that day:
        # a pure function of the state (the revision) and the site (which never changes).
        self._days: dict[tuple[str, str, int, date], list[Interval]] = {}

    async def search(
        self,
        tenant: str,
        *,
        site_id: str,
        visit_type_id: str,
        first_day: date,
        last_day: date,
        provider_id: str | None = None,
        limit: int = 10,
        step_minutes: int = 15,
    ) -> list[Slot]:
        if last_day < first_day:
            raise Invalid("the date range ends before it starts")
        if (last_day - first_day).days >= MAX_DAYS:
            raise Invalid(f"search at most {MAX_DAYS} days at once")
        if not 1 <= limit <= MAX_SLOTS:
            raise Invalid(f"ask for 1 to {MAX_SLOTS} slots")
        site = await self._directory.site(tenant, site_id)
        visit = await self._directory.visit_type(tenant, visit_type_id)
        zone = ZoneInfo(site.time_zone)
        generations = await self._read_models.generations(AVAILABILITY, BOARD_PROJECTION)
        bookable = physical(BOOKABLE, generations[AVAILABILITY])
        boards = physical(SITE_DAYS, generations[BOARD_PROJECTION])
        site_doc, states = await self._bookable(tenant, site_id, provider_id, bookable)
        candidates = sorted(
            (p, key, s) for p, (key, s) in states.items() if s.registered is not None
        )
        rooms: list[str | None] = [None]
        if visit.room_type is not None:
            rooms = [
                r["room_id"]
                for r in (site_doc or {}).get("rooms", [])
                if r["room_type"] == visit.room_type
            ]
        duration = timedelta(minutes=visit.duration_minutes)
        step = timedelta(minutes=step_minutes)
        now = self._clock.now()
        found: list[Slot] = []
        day = first_day
        while day <= last_day and len(found) < limit and candidates and rooms:
            busy = await self._board(boards, site_day_id(tenant, site_id, day.isoformat()))
            # The providers' free starts merged in time order, each made only when the one
            # before it has been taken: the first `limit` need not look at the whole day.
            starts = heapq.merge(
                *(
                    _free_starts(
                        p,
                        self._available(key, state, site_id, day, zone, site.opening_hours),
                        busy.held("provider", p),
                        now,
                        duration,
                        step,
                    )
                    for p, key, state in candidates
                    # The role they hold that day (a job change may give another).
                    if not visit.provider_roles or state.role_on(day) in visit.provider_roles
                )
            )
            for start, p in starts:
                end = start + duration
                for r in rooms:
                    if r is None or busy.held("room", r).free(start, end):
                        found.append(Slot(p, r, start, end))
                        break
                if len(found) == limit:
                    break
            day += timedelta(days=1)
        return found

    async def _bookable(
        self, tenant: str, site_id: str, provider_id: str | None, collection: str
    ) -> tuple[Document | None, dict[str, tuple[Revision, providers.Provider]]]:
        """The site's document (its rooms) and the candidate providers' states, each with the
        revision it came from: one read of their revisions (and of the bodies that changed)."""
        site_doc_id = site_prefix(tenant, site_id)
        if provider_id is None:
            where = site_range(tenant, site_id)
        else:
            wanted = provider_at_site_id(tenant, site_id, provider_id)
            where = {"_id": {"$in": [site_doc_id, wanted]}}
        # The ids alone are the cheapest read of revisions; tenant and site make it exact.
        docs = [
            d
            for d in await self._documents(collection, where)
            if d.get("tenant") == tenant and d.get("site_id") == site_id
        ]
        site_doc = next((d for d in docs if d["_id"] == site_doc_id), None)
        states: dict[str, tuple[Revision, providers.Provider]] = {
            d["provider_id"]: (
                (collection, str(d["_id"]), int(d["_rev"])),
                self._state(collection, d),
            )
            for d in docs
            if d.get("kind") == "provider"
        }
        if provider_id is not None and provider_id not in states:
            # Unknown (404), not at this site (no slots), or too new for the read model: the
            # provider's stream says which.
            states[provider_id] = (None, await self._directory.provider(tenant, provider_id))
        return site_doc, states

    async def _documents(self, collection: str, where: Filter) -> list[Document]:
        """The documents matching `where`, as read now: their revisions first, then the bodies
        of only those this process has not decoded at that revision yet."""
        store = self._read_models.store
        revisions = await store.revisions(collection, where)
        stale = [
            doc_id
            for doc_id, rev in revisions.items()
            if self._docs.get((collection, doc_id), (0, {}))[0] != rev
        ]
        if stale:
            if len(self._docs) + len(stale) > _REMEMBERED:
                self._docs.clear()
            for doc_id, doc in (await store.get_many(collection, stale)).items():
                self._docs[(collection, doc_id)] = (int(doc["_rev"]), doc)
        found = (self._docs.get((collection, doc_id)) for doc_id in revisions)
        return [known[1] for known in found if known is not None]

    def _state(self, collection: str, doc: Document) -> providers.Provider:
        key = (collection, str(doc["_id"]))
        known = self._states.get(key)
        if known is not None and known[0] == doc["_rev"]:
            return known[1]
        state = state_from(doc)
        if len(self._states) >= _REMEMBERED:
            self._states.clear()
        self._states[key] = (int(doc["_rev"]), state)
        return state

    def _available(
        self,
        revision: Revision,
        state: providers.Provider,
        site_id: str,
        day: date,
        zone: ZoneInfo,
        opening_hours: Sequence[Hours],
    ) -> list[Interval]:
        """`providers.availability`, remembered per state revision and day: the same day of
        the same state at the same site (whose hours never change) gives the same windows."""
        if revision is None:
            return providers.availability(state, site_id, day, zone, opening_hours)
        key = (*revision, day)
        windows = self._days.get(key)
        if windows is None:
            windows = providers.availability(state, site_id, day, zone, opening_hours)
            if len(self._days) >= _DAYS_REMEMBERED:
                self._days.clear()
            self._days[key] = windows
        return windows

    async def _board(self, collection: str, doc_id: str) -> Board:
        """The site-day board as read now; its times parsed at most once per revision."""
        doc = await self._read_models.store.get(collection, doc_id)
        if doc is None:
            return Board(None)
        key, rev = (collection, doc_id), int(doc["_rev"])
        known = self._boards.get(key)
        if known is not None and known[0] == rev:
            return known[1]
        board = Board(doc)
        if len(self._boards) >= _BOARDS_REMEMBERED:
            self._boards.clear()
        self._boards[key] = (rev, board)
        return board

    async def works_at(self, tenant: str, provider_id: str, site_id: str) -> bool:
        """Whether the availability read model has the provider at the site."""
        doc = await self._read_models.get(AVAILABILITY, PROVIDERS, f"{tenant}:{provider_id}")
        return doc is not None and site_id in doc["site_ids"]


def _free_starts(
    provider_id: str,
    windows: list[Interval],
    held: Busy,
    now: datetime,
    duration: timedelta,
    step: timedelta,
) -> Iterator[tuple[datetime, str]]:
    """(start, provider) of every visit on the grid of each window (from its start) that lies
    in it, after `now`, where the provider is free, in time order (windows are sorted)."""
    for w_start, w_end in windows:
        start = w_start
        while start + duration <= w_end:
            if start >= now and held.free(start, start + duration):
                yield start, provider_id
            start += step


class Board:
    """Who and what a site-day board holds when: the times of one provider or room are parsed
    and merged the first time they are asked for (a one-provider search asks for few)."""

    def __init__(self, doc: Document | None) -> None:
        self._raw: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._held: dict[tuple[str, str], Busy] = {}
        for a in (doc or {}).get("appointments", []):
            if a["status"] not in HOLDING:
                continue
            times = (a["start"], a["end"])
            self._raw.setdefault(("provider", a["provider_id"]), []).append(times)
            if a.get("room_id"):
                self._raw.setdefault(("room", a["room_id"]), []).append(times)

    def held(self, kind: str, key: str) -> Busy:
        found = self._held.get((kind, key))
        if found is None:
            raw = self._raw.get((kind, key), [])
            found = Busy([(_parse(s), _parse(e)) for s, e in raw]) if raw else _NOTHING
            self._held[(kind, key)] = found
        return found


def slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "provider_id": slot.provider_id,
        "room_id": slot.room_id,
        "start": slot.start.astimezone(UTC).isoformat(),
        "end": slot.end.astimezone(UTC).isoformat(),
    }
