"""Appointment use cases: booking (one, or a series whole), moving, and the visit's lifecycle.

Every decision is made by the site-day decider on the stream of the appointment's site and
local date, found by the appointment's tag in the event store (never through a read model,
which may be behind). Work that spans two of those streams (a move to another day, a series)
records its intent first and is finished by a reactor (see reactions.py) should the request
die halfway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from services.scheduling.application.directory import Directory
from services.scheduling.application.tag_index import TagIndex
from services.scheduling.domain import providers, series, site_day, streams
from services.scheduling.domain.events import SiteRegistered, VisitTypeDefined
from shared.commands import CommandHandler, Outcome
from shared.domain import Invalid, NotFound, Rejected
from shared.events import Metadata
from shared.usecases import UseCases

AnySite = Callable[[str], bool]


def _any_site(_: str) -> bool:
    return True


class Appointments(UseCases):
    def __init__(self, handler: CommandHandler, directory: Directory, tags: TagIndex) -> None:
        super().__init__(handler)
        self._directory = directory
        self._tags = tags

    # ------------------------------------------------------------------------------ booking

    async def plan(
        self,
        tenant: str,
        *,
        appointment_id: str,
        patient_id: str,
        provider_id: str,
        site_id: str,
        room_id: str | None,
        visit_type_id: str,
        start: datetime,
        end: datetime | None = None,
        series_id: str | None = None,
        rescheduled_from: str | None = None,
    ) -> tuple[str, site_day.BookAppointment]:
        """Check what the booking refers to and find the provider's availability that day:
        the site-day stream and the command to decide there."""
        site = await self._directory.site(tenant, site_id)
        visit = await self._directory.visit_type(tenant, visit_type_id)
        provider = await self._directory.provider(tenant, provider_id)
        if start.second or start.microsecond:
            raise Invalid("an appointment starts on a whole minute")
        candidates = await self._rooms_for(tenant, site_id, visit, room_id)
        # Events hold UTC; the site's zone decides which local day (and stream) it belongs to.
        start = start.astimezone(UTC)
        end = (end or start + timedelta(minutes=visit.duration_minutes)).astimezone(UTC)
        zone = await self._directory.zone(tenant, site_id)
        day = start.astimezone(zone).date()
        role = provider.role_on(day)  # the job they hold that day, as staffing says
        if visit.provider_roles and role not in visit.provider_roles:
            raise Invalid(
                f"a {visit.name} is seen by {', '.join(visit.provider_roles)}, not by a {role}"
            )
        available = providers.availability(provider, site_id, day, zone, site.opening_hours)
        command = site_day.BookAppointment(
            appointment_id=appointment_id,
            patient_id=patient_id,
            provider_id=provider_id,
            site_id=site_id,
            room_id=room_id,
            visit_type_id=visit_type_id,
            start=start,
            end=end,
            booked_at=self._handler.clock.now(),
            series_id=series_id,
            rescheduled_from=rescheduled_from,
            available=tuple(available),
            unavailable_reason=providers.why_unavailable(provider, site_id, day, start, end),
            candidate_rooms=candidates,
        )
        return streams.site_day(tenant, site_id, day), command

    async def _rooms_for(
        self, tenant: str, site_id: str, visit: VisitTypeDefined, room_id: str | None
    ) -> tuple[str, ...]:
        """The rooms the decider may choose from when the request names none."""
        if room_id is not None:
            room = await self._directory.room(tenant, room_id)
            if room.site_id != site_id:
                raise Invalid(f"room {room_id} is not at site {site_id}")
            if visit.room_type is not None and room.room_type != visit.room_type:
                raise Invalid(f"a {visit.name} needs a {visit.room_type} room")
            return ()
        if visit.room_type is None:
            return ()
        rooms = await self._directory.rooms_at(tenant, site_id)
        suitable = sorted(r.room_id for r in rooms if r.room_type == visit.room_type)
        if not suitable:
            raise Invalid(f"site {site_id} has no {visit.room_type} room")
        return tuple(suitable)

    async def book(self, meta: Metadata, **booking: Any) -> Outcome[Any]:
        await self._directory.patient(meta.tenant, booking["patient_id"])
        stream, command = await self.plan(meta.tenant, **booking)
        meta = meta.model_copy(update={"site": command.site_id})
        return await self._handler.handle(
            stream, site_day.site_day, command, meta, subject=command.appointment_id
        )

    async def book_series(
        self,
        meta: Metadata,
        *,
        series_id: str,
        starts: Sequence[datetime],
        patient_id: str,
        provider_id: str,
        site_id: str,
        room_id: str | None,
        visit_type_id: str,
    ) -> Outcome[Any]:
        """Book every occurrence, or none: check them all first, then book, then conclude."""
        if not 2 <= len(starts) <= series.MAX_OCCURRENCES:
            raise Invalid(f"a series has 2 to {series.MAX_OCCURRENCES} occurrences")
        await self._directory.patient(meta.tenant, patient_id)  # once for every occurrence
        ids = tuple(f"{series_id}-{n}" for n in range(1, len(starts) + 1))
        plans = [
            await self.plan(
                meta.tenant,
                appointment_id=appointment_id,
                patient_id=patient_id,
                provider_id=provider_id,
                site_id=site_id,
                room_id=room_id,
                visit_type_id=visit_type_id,
                start=start,
                series_id=series_id,
            )
            for appointment_id, start in zip(ids, starts, strict=True)
        ]
        # Checked as a whole before anything is written: a clash anywhere refuses the series.
        for n, (stream, command) in enumerate(plans, start=1):
            state, _ = await self._handler.load(stream, site_day.site_day)
            try:
                site_day.site_day.decide(state, command)
            except Rejected as exc:
                raise Rejected(f"occurrence {n} ({command.start:%Y-%m-%d}): {exc.reason}") from exc
        request = series.RequestSeries(
            series_id=series_id,
            patient_id=patient_id,
            provider_id=provider_id,
            site_id=site_id,
            room_id=room_id,
            visit_type_id=visit_type_id,
            starts=tuple(c.start for _, c in plans),
            appointment_ids=ids,
            requested_at=self._handler.clock.now(),
        )
        meta = meta.model_copy(update={"site": site_id})
        await self._handler.handle(
            streams.series(meta.tenant, series_id), series.series, request, meta, subject=series_id
        )
        return await self.finish_series(meta, series_id)

    async def finish_series(self, meta: Metadata, series_id: str) -> Outcome[Any]:
        """Book the series' occurrences and record the outcome; on refusal, withdraw them all.
        Safe to run more than once, and concurrently: the first recorded outcome stands."""
        stream = streams.series(meta.tenant, series_id)
        state, _ = await self._handler.load(stream, series.series)
        requested = state.requested
        if requested is None:
            raise NotFound(f"series {series_id} not found")
        plans = [
            await self.plan(
                meta.tenant,
                appointment_id=appointment_id,
                patient_id=requested.patient_id,
                provider_id=requested.provider_id,
                site_id=requested.site_id,
                room_id=requested.room_id,
                visit_type_id=requested.visit_type_id,
                start=start,
                series_id=series_id,
            )
            for appointment_id, start in zip(
                requested.appointment_ids, requested.starts, strict=True
            )
        ]
        failure = state.reason if state.outcome == "refused" else None
        if state.outcome == "pending":
            for n, (day_stream, command) in enumerate(plans, start=1):
                try:
                    await self._handler.handle(
                        day_stream, site_day.site_day, command, meta, subject=command.appointment_id
                    )
                except Rejected as exc:
                    failure = f"occurrence {n} ({command.start:%Y-%m-%d}): {exc.reason}"
                    break
            conclude = series.ConcludeSeries(
                series_id=series_id,
                booked=failure is None,
                reason=failure or "",
                at=self._handler.clock.now(),
            )
            outcome = await self._handler.handle(stream, series.series, conclude, meta, series_id)
            failure = outcome.state.reason if outcome.state.outcome == "refused" else None
        if failure is not None:
            for day_stream, command in plans:
                withdraw = site_day.WithdrawBooking(
                    appointment_id=command.appointment_id,
                    reason=f"series {series_id} refused",
                    withdrawn_at=self._handler.clock.now(),
                )
                await self._handler.handle(day_stream, site_day.site_day, withdraw, meta)
            raise Rejected(f"series {series_id} was not booked: {failure}")
        return await self._handler.handle(
            stream,
            series.series,
            series.ConcludeSeries(series_id=series_id, booked=True, reason="", at=self.now()),
            meta,
            series_id,
        )

    # ------------------------------------------------------------------------ one appointment

    async def locate(
        self, tenant: str, appointment_id: str, may_see_site: AnySite = _any_site
    ) -> str:
        """The site-day stream the appointment lives in, from the event store's tags (so right
        after booking too); one at a site the caller may not see is not found."""
        found = await self._tags.streams(streams.appointment_tag(tenant, appointment_id))
        home = found[-1] if found else None
        if len(found) > 1:  # moved: booked on several days, and lives where it is not gone
            for stream in reversed(found):
                state, _ = await self._handler.load(stream, site_day.site_day)
                here = state.appointments.get(appointment_id)
                if here is not None and here.status not in ("moved", "withdrawn"):
                    home = stream
                    break
        if home is None or not may_see_site(streams.site_day_parts(home)[0]):
            raise NotFound(f"appointment {appointment_id} not found")
        return home

    async def appointment(
        self, tenant: str, appointment_id: str, may_see_site: AnySite = _any_site
    ) -> tuple[str, site_day.Appointment]:
        """The appointment as its site-day stream holds it now, and that stream."""
        stream = await self.locate(tenant, appointment_id, may_see_site)
        state, _ = await self._handler.load(stream, site_day.site_day)
        found = state.appointments.get(appointment_id)
        if found is None:
            raise NotFound(f"appointment {appointment_id} not found")
        return stream, found

    async def _on_its_day(
        self,
        meta: Metadata,
        appointment_id: str,
        make: Callable[[SiteRegistered], site_day.SiteDayCommand],
        may_see_site: AnySite,
    ) -> Outcome[Any]:
        stream = await self.locate(meta.tenant, appointment_id, may_see_site)
        site_id, _ = streams.site_day_parts(stream)
        site = await self._directory.site(meta.tenant, site_id)
        meta = meta.model_copy(update={"site": site_id})
        return await self._handler.handle(
            stream, site_day.site_day, make(site), meta, subject=appointment_id
        )

    async def cancel(
        self,
        meta: Metadata,
        appointment_id: str,
        reason: str,
        may_see_site: AnySite = _any_site,
        expected_start: datetime | None = None,
    ) -> Outcome[Any]:
        now = self._handler.clock.now()
        return await self._on_its_day(
            meta,
            appointment_id,
            lambda site: site_day.CancelAppointment(
                appointment_id=appointment_id,
                reason=reason,
                cancelled_at=now,
                late_cancel_hours=site.late_cancel_hours,
                expected_start=expected_start,
            ),
            may_see_site,
        )

    async def confirm(
        self,
        meta: Metadata,
        appointment_id: str,
        may_see_site: AnySite = _any_site,
        expected_start: datetime | None = None,
    ) -> Outcome[Any]:
        """The patient will come (`expected_start`: refused if the visit has moved since)."""
        command = site_day.ConfirmAppointment(
            appointment_id=appointment_id,
            confirmed_at=self._handler.clock.now(),
            expected_start=expected_start,
        )
        return await self._on_its_day(meta, appointment_id, lambda _: command, may_see_site)

    async def check_in(
        self, meta: Metadata, appointment_id: str, may_see_site: AnySite = _any_site
    ) -> Outcome[Any]:
        now = self._handler.clock.now()
        command = site_day.CheckIn(appointment_id=appointment_id, checked_in_at=now)
        return await self._on_its_day(meta, appointment_id, lambda _: command, may_see_site)

    async def room(
        self,
        meta: Metadata,
        appointment_id: str,
        room_id: str | None,
        may_see_site: AnySite = _any_site,
    ) -> Outcome[Any]:
        if room_id is not None:
            await self._directory.room(meta.tenant, room_id)
        now = self._handler.clock.now()
        command = site_day.RoomPatient(
            appointment_id=appointment_id, room_id=room_id, roomed_at=now
        )
        return await self._on_its_day(meta, appointment_id, lambda _: command, may_see_site)

    async def complete(
        self,
        meta: Metadata,
        appointment_id: str,
        procedures: Sequence[str],
        diagnoses: Sequence[str],
        may_see_site: AnySite = _any_site,
    ) -> Outcome[Any]:
        command = site_day.CompleteVisit(
            appointment_id=appointment_id,
            procedures=tuple(procedures),
            diagnoses=tuple(diagnoses),
            completed_at=self._handler.clock.now(),
        )
        return await self._on_its_day(meta, appointment_id, lambda _: command, may_see_site)

    async def no_show(
        self,
        meta: Metadata,
        appointment_id: str,
        *,
        automatic: bool = False,
        may_see_site: AnySite = _any_site,
    ) -> Outcome[Any]:
        now = self._handler.clock.now()
        return await self._on_its_day(
            meta,
            appointment_id,
            lambda site: site_day.MarkNoShow(
                appointment_id=appointment_id,
                recorded_at=now,
                automatic=automatic,
                grace_minutes=site.no_show_grace_minutes,
            ),
            may_see_site,
        )

    async def reschedule(
        self,
        meta: Metadata,
        appointment_id: str,
        *,
        start: datetime,
        provider_id: str | None = None,
        room_id: str | None = None,
        site_id: str | None = None,
        may_see_site: AnySite = _any_site,
    ) -> Outcome[Any]:
        """Move a booked appointment. Within its site's day this is one decision; to another
        day or site it is booked there first, then freed here (see finish_move)."""
        old_stream, old = await self.appointment(meta.tenant, appointment_id, may_see_site)
        target_site = site_id or old.booked.site_id
        if not may_see_site(target_site):
            raise Invalid(f"you do not work at site {target_site}")
        stream, book = await self.plan(
            meta.tenant,
            appointment_id=appointment_id,
            patient_id=old.booked.patient_id,
            provider_id=provider_id or old.provider_id,
            site_id=target_site,
            room_id=room_id,
            visit_type_id=old.booked.visit_type_id,
            start=start,
            series_id=old.booked.series_id,
            rescheduled_from=old_stream,
        )
        meta = meta.model_copy(update={"site": target_site})
        if stream == old_stream:
            command = site_day.RescheduleAppointment(
                appointment_id=appointment_id,
                provider_id=book.provider_id,
                room_id=book.room_id if book.room_id is not None else old.room_id,
                start=book.start,
                end=book.end,
                rescheduled_at=book.booked_at,
                available=book.available,
                unavailable_reason=book.unavailable_reason,
            )
            return await self._handler.handle(
                stream, site_day.site_day, command, meta, subject=appointment_id
            )
        state, _ = await self._handler.load(old_stream, site_day.site_day)
        current = state.appointments.get(appointment_id)
        if current is None or current.status != "booked":
            status = "gone" if current is None else current.status
            raise Rejected(f"appointment {appointment_id} cannot be rescheduled: it is {status}")
        outcome = await self._handler.handle(
            stream, site_day.site_day, book, meta, subject=appointment_id
        )
        await self.finish_move(meta, appointment_id, old_stream, stream, book.booked_at)
        return outcome

    async def finish_move(
        self,
        meta: Metadata,
        appointment_id: str,
        from_stream: str,
        to_stream: str,
        booked_there_at: datetime,
    ) -> None:
        """Free the old slot of a moved appointment; if it can no longer move (cancelled or
        checked in meanwhile), withdraw the new booking instead. Idempotent, and a no-op once
        the appointment was booked back on its old day after this move."""
        move = site_day.MoveAppointmentOut(
            appointment_id=appointment_id,
            to_stream=to_stream,
            moved_at=self.now(),
            booked_there_at=booked_there_at,
        )
        try:
            await self._handler.handle(
                from_stream, site_day.site_day, move, meta, subject=appointment_id
            )
        except (Rejected, NotFound) as exc:
            withdraw = site_day.WithdrawBooking(
                appointment_id=appointment_id,
                reason=f"the move could not finish: {exc}",
                withdrawn_at=self.now(),
            )
            await self._handler.handle(
                to_stream, site_day.site_day, withdraw, meta, subject=appointment_id
            )
            raise Rejected(f"appointment {appointment_id} cannot be rescheduled: {exc}") from exc
