"""A provider as scheduling sees them: where they work, their licences, time off, and the weekly
availability templates and blocked times that say when they can be booked.

Registration, job (role and sites), leave, termination, licences and time off are staffing's
facts: scheduling learns them from staffing's events (`Learn`, fed by a reaction) in whatever
order staffing's streams deliver them, so a licence or time off learnt before the hire counts
once the hire arrives, and learning a fact again changes nothing. Scheduling has no command of
its own for them; availability (templates, blocked time) is its own. `ProviderDeactivated`,
recorded by an admin command before staffing existed, still folds.

A provider is bookable on a day only if employed, not on leave, in a role that sees patients,
at the site, and a licence covers the day (`licensed_on`).

One stream per provider holds all of it, so "a provider's templates at different sites never
overlap" is decided against every template at once, over the days each is in force (a later
template at a site replaces the earlier ones for its period). Together with "a booking lies
inside the provider's availability at its site", that keeps a provider who works at several
sites from being booked at two of them at the same time, while each site's day stays its own
stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo

from pydantic import AwareDatetime, ConfigDict

from services.scheduling.domain.calendar import (
    Interval,
    check_calendar,
    intersect,
    local_day,
    overlaps,
    subtract,
)
from services.scheduling.domain.events import (
    AvailabilitySet,
    Hours,
    ProviderDeactivated,
    ProviderIdentified,
    ProviderJobChanged,
    ProviderLeaveEnded,
    ProviderLeaveStarted,
    ProviderLicenceRecorded,
    ProviderLicenceRenewed,
    ProviderLicenceRevoked,
    ProviderLicenceVerified,
    ProviderRegistered,
    ProviderRehired,
    ProviderTerminated,
    ProviderTimeOffApproved,
    ProviderTimeOffCancelled,
    TimeBlocked,
    Window,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent


class SetAvailability(Command):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    provider_id: str
    site_id: str
    template_id: str
    windows: tuple[Window, ...]
    effective_from: date
    effective_until: date | None
    opening_hours: tuple[Hours, ...]  # the site's, which the windows must lie within
    # The time zone of every site the provider works at: windows at two sites are compared as
    # the instants they are, which local times alone do not tell when the zones differ.
    time_zones: tuple[tuple[str, tzinfo], ...]


class BlockTime(Command):
    provider_id: str
    block_id: str
    start: AwareDatetime
    end: AwareDatetime
    reason: str


# What staffing tells scheduling about a provider, as scheduling records it.
ProviderFact = (
    ProviderRegistered
    | ProviderRehired
    | ProviderJobChanged
    | ProviderLeaveStarted
    | ProviderLeaveEnded
    | ProviderTerminated
    | ProviderIdentified
    | ProviderLicenceRecorded
    | ProviderLicenceRenewed
    | ProviderLicenceRevoked
    | ProviderLicenceVerified
    | ProviderTimeOffApproved
    | ProviderTimeOffCancelled
)


class Learn(Command):
    """Record a fact staffing recorded (its `learnt_from` names the staffing event): once,
    and before the provider's hire if it comes first. A hire of a provider already
    registered records a rehire."""

    provider_id: str
    fact: ProviderFact


ProviderCommand = SetAvailability | BlockTime | Learn


@dataclass(frozen=True)
class Provider:
    registered: ProviderRegistered | None = None
    active: bool = True
    licences: tuple[ProviderLicenceRecorded, ...] = ()
    time_off: tuple[ProviderTimeOffApproved, ...] = ()  # approved and not cancelled
    blocks: tuple[TimeBlocked, ...] = ()
    templates: tuple[AvailabilitySet, ...] = ()
    # Learnt from staffing (see `Learn`), kept as events so that the rules below read them in
    # any order they arrived in.
    rehires: tuple[ProviderRehired, ...] = ()
    terminations: tuple[ProviderTerminated, ...] = ()
    jobs: tuple[ProviderJobChanged, ...] = ()
    leaves: tuple[ProviderLeaveStarted, ...] = ()
    returns: tuple[ProviderLeaveEnded, ...] = ()
    renewals: tuple[ProviderLicenceRenewed, ...] = ()
    revocations: tuple[ProviderLicenceRevoked, ...] = ()
    verifications: tuple[ProviderLicenceVerified, ...] = ()
    cancelled_time_off: tuple[ProviderTimeOffCancelled, ...] = ()
    identified: ProviderIdentified | None = None
    learnt: frozenset[str] = frozenset()  # the staffing events already recorded

    def licensed_on(self, day: date) -> bool:
        """A licence covers the day: issued on or before it, expiring (as last renewed) on or
        after it, not revoked on or before it, and its latest verification up to the day (if
        any) passed."""
        return any(self.licence_valid_on(lic, day) for lic in self.licences)

    def licence_valid_on(self, lic: ProviderLicenceRecorded, day: date) -> bool:
        renewals = [r for r in self.renewals if r.licence_id == lic.licence_id]
        until = renewals[-1].valid_until if renewals else lic.valid_until
        if not lic.valid_from <= day <= until:
            return False
        if any(r.licence_id == lic.licence_id and r.effective_on <= day for r in self.revocations):
            return False
        checks = sorted(
            (v for v in self.verifications if v.licence_id == lic.licence_id),
            key=lambda v: v.verified_on,  # stable: the later recorded wins on the same day
        )
        upto = [v for v in checks if v.verified_on <= day]
        return not upto or upto[-1].passed

    def employed_on(self, day: date) -> bool:
        """Hired on or before the day, and not terminated since that hire before the day."""
        if self.registered is None:
            return False
        hires = [self.registered.hired_on or date.min, *(r.hired_on for r in self.rehires)]
        return any(
            hired <= day and not any(hired <= t.last_day < day for t in self.terminations)
            for hired in hires
        )

    def job_on(self, day: date) -> ProviderJobChanged | None:
        """The job change in force on the day (None: the one they were hired into)."""
        in_force = [j for j in self.jobs if j.effective_on <= day]
        latest_hire = max((r.hired_on for r in self.rehires if r.hired_on <= day), default=None)
        if latest_hire is not None:  # a rehire starts a new job
            in_force = [j for j in in_force if j.effective_on >= latest_hire]
        return max(in_force, key=lambda j: j.effective_on, default=None)

    def hire_on(self, day: date) -> ProviderRegistered | ProviderRehired | None:
        rehired = [r for r in self.rehires if r.hired_on <= day]
        return max(rehired, key=lambda r: r.hired_on) if rehired else self.registered

    def sites_on(self, day: date) -> tuple[str, ...]:
        job = self.job_on(day)
        if job is not None:
            return job.site_ids
        hire = self.hire_on(day)
        return hire.site_ids if hire is not None else ()

    def role_on(self, day: date) -> str:
        job = self.job_on(day)
        if job is not None:
            return job.role
        hire = self.hire_on(day)
        return hire.role if hire is not None else ""

    def sees_patients_on(self, day: date) -> bool:
        job = self.job_on(day)
        return job is None or job.sees_patients

    def on_leave(self, day: date) -> bool:
        for leave in self.leaves:
            back = [r.returned_on for r in self.returns if r.leave_id == leave.leave_id]
            if leave.starts_on <= day and not any(b <= day for b in back):
                return True
        return False

    @property
    def all_site_ids(self) -> tuple[str, ...]:
        """Every site they were hired or moved to, first the registration's."""
        sites: list[str] = []
        hires: list[ProviderRegistered | ProviderRehired] = [*self.rehires]
        if self.registered is not None:
            hires.insert(0, self.registered)
        for group in (*(h.site_ids for h in hires), *(j.site_ids for j in self.jobs)):
            sites.extend(s for s in group if s not in sites)
        return tuple(sites)

    def template(self, site_id: str, day: date) -> AvailabilitySet | None:
        """The template in force at the site on `day`: the latest set that covers the day."""
        for t in reversed(self.templates):
            if t.site_id == site_id and _covers(t, day):
                return t
        return None


def unbookable_reason(state: Provider, site_id: str, day: date) -> str | None:
    """Why the provider cannot be booked at all at the site on the day (None: they may be,
    within their availability): the rules of who may be booked, whatever the time."""
    pid = state.registered.provider_id if state.registered else "?"
    if state.registered is None:
        return f"provider {pid} not found"
    if not state.active:
        return f"provider {pid} is not active"
    if not state.employed_on(day):
        return f"provider {pid} is not employed on {day.isoformat()}"
    if not state.sees_patients_on(day):
        return f"provider {pid} does not see patients on {day.isoformat()}"
    if site_id not in state.sites_on(day):
        return f"provider {pid} does not work at site {site_id}"
    if not state.licensed_on(day):
        return f"provider {pid} has no licence valid on {day.isoformat()}"
    if state.on_leave(day):
        return f"provider {pid} is on leave on {day.isoformat()}"
    return None


def to_reschedule_reason(
    state: Provider, site_id: str, day: date, start: datetime, end: datetime
) -> str | None:
    """Why a visit already booked then can no longer take place as booked (None: it can, or
    the provider is not known yet): the provider is no longer bookable that day (licence
    ended, terminated, on leave, moved...), or is on approved time off then."""
    if state.registered is None:
        return None
    reason = unbookable_reason(state, site_id, day)
    if reason is not None:
        return reason
    if any(t.start < end and start < t.end for t in state.time_off):
        return f"provider {state.registered.provider_id} is on approved time off then"
    return None


def _covers(t: AvailabilitySet, day: date) -> bool:
    return t.effective_from <= day and (t.effective_until is None or day <= t.effective_until)


def evolve(state: Provider, event: DomainEvent) -> Provider:
    learnt = getattr(event, "learnt_from", None)
    if isinstance(learnt, str):
        state = replace(state, learnt=state.learnt | {learnt})
    match event:
        case ProviderRegistered():
            return replace(state, registered=event)
        case ProviderLicenceRecorded():
            return replace(state, licences=(*state.licences, event))
        case ProviderTimeOffApproved():
            if any(c.time_off_id == event.time_off_id for c in state.cancelled_time_off):
                return state  # cancelled before its approval arrived
            return replace(state, time_off=(*state.time_off, event))
        case ProviderTimeOffCancelled():
            kept = tuple(t for t in state.time_off if t.time_off_id != event.time_off_id)
            return replace(
                state, time_off=kept, cancelled_time_off=(*state.cancelled_time_off, event)
            )
        case TimeBlocked():
            return replace(state, blocks=(*state.blocks, event))
        case AvailabilitySet():
            return replace(state, templates=(*state.templates, event))
        case ProviderDeactivated():
            return replace(state, active=False)
        case ProviderRehired():
            return replace(state, rehires=(*state.rehires, event))
        case ProviderTerminated():
            return replace(state, terminations=(*state.terminations, event))
        case ProviderJobChanged():
            return replace(state, jobs=(*state.jobs, event))
        case ProviderLeaveStarted():
            return replace(state, leaves=(*state.leaves, event))
        case ProviderLeaveEnded():
            return replace(state, returns=(*state.returns, event))
        case ProviderIdentified():
            return replace(state, identified=event)
        case ProviderLicenceRenewed():
            return replace(state, renewals=(*state.renewals, event))
        case ProviderLicenceRevoked():
            return replace(state, revocations=(*state.revocations, event))
        case ProviderLicenceVerified():
            return replace(state, verifications=(*state.verifications, event))
    return state


def decide(state: Provider, command: ProviderCommand) -> Sequence[DomainEvent]:
    if isinstance(command, Learn):
        return _learn(state, command)
    check_calendar(command)
    if state.registered is None:
        raise NotFound(f"provider {command.provider_id} not found")
    match command:
        case SetAvailability():
            return _set_availability(state, command)
        case BlockTime():
            if command.end <= command.start:
                raise Invalid("blocked time must end after it starts")
            event = TimeBlocked(**command.model_dump())
            return [] if event in state.blocks else [event]


def _learn(state: Provider, c: Learn) -> Sequence[DomainEvent]:
    """Staffing decided the fact already: scheduling records it (dates are compared, never
    computed with, so the calendar check of scheduling's own commands does not apply)."""
    fact = c.fact
    if fact.provider_id != c.provider_id:
        raise Invalid(f"a fact about {fact.provider_id} is not about {c.provider_id}")
    if fact.learnt_from is None:
        raise Invalid("a fact learnt from staffing names the staffing event")
    if fact.learnt_from in state.learnt:
        return []  # learnt already: a redelivery
    if (
        state.registered is None
        and isinstance(fact, ProviderJobChanged)
        and fact.sees_patients
        and fact.name is not None
    ):
        # Hired into a role without patients (so never registered here), now moved into a
        # provider's: registered from the change's day, in the new role and sites.
        return [
            ProviderRegistered(
                provider_id=fact.provider_id,
                name=fact.name,
                site_ids=fact.site_ids,
                role=fact.role,
                hired_on=fact.effective_on,
                learnt_from=fact.learnt_from,
            )
        ]
    if state.registered is None and isinstance(
        fact, ProviderJobChanged | ProviderLeaveStarted | ProviderLeaveEnded | ProviderTerminated
    ):
        # The employee's own stream brings these after the hire: an employee scheduling has
        # not registered was not hired as a provider, and is none of its business.
        return []
    if isinstance(fact, ProviderLicenceRenewed | ProviderLicenceRevoked | ProviderLicenceVerified):
        if not any(lic.licence_id == fact.licence_id for lic in state.licences):
            # A credential's own stream brings these after it was recorded, and every licence
            # is recorded (hired or not yet): one not known is another kind of credential.
            return []
    if isinstance(fact, ProviderRegistered) and state.registered is not None:
        return [
            ProviderRehired(
                provider_id=fact.provider_id,
                name=fact.name,
                site_ids=fact.site_ids,
                role=fact.role,
                hired_on=fact.hired_on or date.min,
                learnt_from=fact.learnt_from,
            )
        ]
    return [fact]


def _set_availability(state: Provider, c: SetAvailability) -> Sequence[DomainEvent]:
    assert state.registered is not None
    if not state.active:
        raise Rejected(f"provider {c.provider_id} is not active")
    if c.site_id not in state.all_site_ids:
        raise Invalid(f"provider {c.provider_id} does not work at site {c.site_id}")
    if c.effective_until is not None and c.effective_until < c.effective_from:
        raise Invalid("a template must end after it starts")
    for w in c.windows:
        if not 0 <= w.weekday <= 6 or w.start >= w.end:
            raise Invalid("each window is on a weekday 0-6 and ends after it starts")
        if not any(
            h.weekday == w.weekday and h.opens <= w.start and w.end <= h.closes
            for h in c.opening_hours
        ):
            raise Invalid(
                f"the window {w.start:%H:%M}-{w.end:%H:%M} on weekday {w.weekday} is outside "
                f"the opening hours of site {c.site_id}"
            )
    for a in c.windows:
        for b in c.windows:
            if a is not b and _windows_overlap(a, b):
                raise Invalid(f"windows on weekday {a.weekday} overlap")
    zones = dict(c.time_zones)
    for other in _other_sites_in_force(state, c.site_id):
        if not _periods_overlap(other, c):
            continue
        clash = _clash(c, zones[c.site_id], other, zones[other.site_id])
        if clash is not None:
            raise Rejected(
                f"provider {c.provider_id} is available at site {other.site_id} on "
                f"weekday {clash.weekday} {clash.start:%H:%M}-{clash.end:%H:%M} "
                f"({zones[other.site_id]}) in that period"
            )
    event = AvailabilitySet(**c.model_dump(exclude={"opening_hours", "time_zones"}))
    return [] if event in state.templates else [event]


def _other_sites_in_force(state: Provider, except_site: str) -> list[AvailabilitySet]:
    """The templates of the provider's other sites, each cut to the days it is in force: a
    later template at a site replaces the earlier ones over its own period only."""
    found = []
    for site_id in sorted({t.site_id for t in state.templates} - {except_site}):
        mine = [t for t in state.templates if t.site_id == site_id]
        # Between two of these days no template of the site starts or ends.
        edges = {t.effective_from for t in mine} | {
            t.effective_until + timedelta(days=1)
            for t in mine
            if t.effective_until is not None and t.effective_until < date.max
        }
        days = sorted(edges)
        for first, after in zip(days, [*days[1:], None], strict=True):
            t = state.template(site_id, first)
            if t is not None:
                last = None if after is None else after - timedelta(days=1)
                found.append(
                    t.model_copy(update={"effective_from": first, "effective_until": last})
                )
    return found


_YEAR = 371  # days: the offset between two zones repeats yearly, and every weekday recurs


def _clash(
    c: SetAvailability, here: tzinfo, other: AvailabilitySet, there: tzinfo
) -> Window | None:
    """A window of `other` (at a site in zone `there`) that overlaps a window of `c` (in zone
    `here`) on some day both are in force; None when there is none."""
    if str(here) == str(there):  # the same local times: the same instants, every day
        return next((b for a in c.windows for b in other.windows if _windows_overlap(a, b)), None)
    # Otherwise compare instants day by day (a window here may meet one there on the local
    # day before or after), over the shared period plus a day each side, at most a year.
    day, last = _shared_period(c, other)
    for _ in range(_YEAR):
        if day > last:
            break
        for a in c.windows:
            if a.weekday != day.weekday():
                continue
            a_start, a_end = _instants(day, a, here)
            for near in (day - timedelta(days=1), day, day + timedelta(days=1)):
                if not _covers_day(other.effective_from, other.effective_until, near):
                    continue
                for b in other.windows:
                    if b.weekday == near.weekday():
                        b_start, b_end = _instants(near, b, there)
                        if overlaps(a_start, a_end, b_start, b_end):
                            return b
        day += timedelta(days=1)
    return None


def _shared_period(c: SetAvailability, other: AvailabilitySet) -> tuple[date, date]:
    first = max(c.effective_from, other.effective_from - timedelta(days=1))
    c_end = c.effective_until or date.max - timedelta(days=2)
    other_end = other.effective_until or date.max - timedelta(days=2)
    return first, min(c_end, other_end + timedelta(days=1))


def _covers_day(start: date, until: date | None, day: date) -> bool:
    return start <= day and (until is None or day <= until)


def _instants(day: date, w: Window, zone: tzinfo) -> Interval:
    return local_day(day, [(w.start, w.end)], zone)[0]


def _windows_overlap(a: Window, b: Window) -> bool:
    return a.weekday == b.weekday and a.start < b.end and b.start < a.end


def _periods_overlap(a: AvailabilitySet, b: SetAvailability) -> bool:
    a_end, b_end = a.effective_until or date.max, b.effective_until or date.max
    return a.effective_from <= b_end and b.effective_from <= a_end


provider = Decider[Provider, ProviderCommand](Provider(), evolve, decide)


def availability(
    state: Provider,
    site_id: str,
    day: date,
    zone: tzinfo,
    opening_hours: Sequence[Hours],
) -> list[Interval]:
    """When the provider can be booked at the site on the local `day`, as UTC intervals:
    the template's windows, within opening hours, without time off and blocked time.
    Empty when `unbookable_reason` gives one (inactive, not employed, on leave, not at the
    site, not licensed that day...)."""
    if unbookable_reason(state, site_id, day) is not None:
        return []
    template = state.template(site_id, day)
    if template is None:
        return []
    weekday = day.weekday()
    windows = local_day(
        day, [(w.start, w.end) for w in template.windows if w.weekday == weekday], zone
    )
    opening = local_day(
        day, [(h.opens, h.closes) for h in opening_hours if h.weekday == weekday], zone
    )
    taken = [(t.start, t.end) for t in state.time_off] + [(b.start, b.end) for b in state.blocks]
    return subtract(intersect(windows, opening), taken)


def why_unavailable(
    state: Provider, site_id: str, day: date, start: datetime, end: datetime
) -> str:
    """A reason a front desk can act on, for a booking outside the provider's availability."""
    pid = state.registered.provider_id if state.registered else "?"
    reason = unbookable_reason(state, site_id, day)
    if reason is not None:
        return reason
    if state.template(site_id, day) is None:
        return f"provider {pid} has no availability at site {site_id} on {day.isoformat()}"
    for t in state.time_off:
        if t.start < end and start < t.end:
            return f"provider {pid} is on approved time off then"
    for b in state.blocks:
        if b.start < end and start < b.end:
            return f"provider {pid} has that time blocked ({b.reason})"
    return f"provider {pid} is not available at that time"
