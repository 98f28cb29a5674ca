"""Appointment messages for a 6-site group's month: how many engagement schedules and sends a
second (issue 17).

`python -m bench.reminders [--per-day N]`

The group: 6 sites (one time zone each, six zones), `--per-day` (24) appointments a weekday at
each site through a month (March 2026), one patient each, every patient consented to e-mail
with an address on file. The engagement service runs on its own embedded stores (SQLite files,
the in-process bus): scheduling's events (the sites, the patients, the bookings) are published
on scheduling's topic as scheduling would, and the clock stands still on 1 March 08:00 UTC.

Measured:
- scheduled: from the bookings' publication until the planning reactor and the deliveries
  read model have caught up: each booking's confirmation and reminders (72 and 24 hours
  before, out of quiet hours) recorded (`MessageScheduled`) on the appointment's stream,
  folded from the event store and decided (messages scheduled a second);
- sent: the clock moved through the month an hour at a time, the delivery timer fired each
  hour until nothing is due (a message fired after its visit began is cancelled, not sent):
  each message released, made (its text and signed links), handed to the channel's sender (the
  outbox: a document written; no SMTP server) and its outcome recorded (messages sent a
  second). One delivery at a time, as one timer sends them.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.report import heading
from services.engagement import app as engagement
from services.engagement.application.delivery import DeliveryTimer
from services.engagement.projections.deliveries import DELIVERIES
from services.engagement.projections.deliveries import PROJECTION as DELIVERIES_PROJECTION
from services.scheduling.contracts import AppointmentBooked, PatientRegistered, SiteRegistered
from shared.backends import open_backends
from shared.clock import UuidIds
from shared.cloudevents import to_message
from shared.events import DomainEvent, Metadata, seal
from shared.kit import Assembled, assemble_parts
from shared.settings import Settings
from shared.timers import Timer

TENANT = "bench"
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "Pacific/Honolulu",
)
SITES = tuple(f"site-{n}" for n in range(len(ZONES)))
MONTH_START = date(2026, 3, 1)
BATCH = 500


class StillClock:
    """Stands still where it is put."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        seed_demo=False,
        env="test",
        sqlite_durability="normal",
        engagement_delivery_seconds=86_400,
    )


async def _open(data_dir: Path, clock: StillClock) -> Assembled[engagement.UseCases]:
    backends = await open_backends(_settings(data_dir))
    built = await assemble_parts(engagement.SPEC, backends, clock, UuidIds())
    # Delivery is timed when asked for: its timer stays off.
    built.service.workers = [w for w in built.service.workers if not isinstance(w, Timer)]
    await built.service.start()
    return built


async def _caught_up(built: Assembled[engagement.UseCases], timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while True:
        behind = len(await built.kit.store.unpublished(1)) if built.kit.relay else 0
        for runner in built.service.runners:
            behind += await runner.lag()
        for worker in built.service.workers:
            lag = getattr(worker, "lag", None)
            behind += await lag() if lag is not None else 0
        if behind == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("engagement did not catch up")
        await asyncio.sleep(0.01)


async def _publish(built: Assembled[engagement.UseCases], dated: Sequence[DomainEvent]) -> None:
    """Scheduling's events, one stream each, on scheduling's topic."""
    meta = Metadata(tenant=TENANT, actor="bench", correlation_id="bench-reminders")
    topic = built.kit.settings.topic("scheduling")
    messages = []
    for n, event in enumerate(dated):
        stream = f"{TENANT}:bench-scheduling:{n}"
        envelope = seal(
            event,
            stream=stream,
            stream_version=1,
            meta=meta,
            event_id=f"{stream}:1",
            time=datetime(2026, 2, 20, tzinfo=UTC),
        )
        messages.append(to_message(envelope, topic))
    for start in range(0, len(messages), BATCH):
        await built.kit.bus.publish(messages[start : start + BATCH])


def bookings(per_day: int) -> list[AppointmentBooked]:
    booked = []
    for site in SITES:
        for offset in range(31):
            day = MONTH_START + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for n in range(per_day):
                start = datetime(day.year, day.month, day.day, 14, tzinfo=UTC) + timedelta(
                    minutes=20 * n
                )
                appointment = f"{site}-{day:%m%d}-{n}"
                booked.append(
                    AppointmentBooked(
                        appointment_id=appointment,
                        patient_id=f"pat-{appointment}",
                        provider_id=f"{site}-dr",
                        site_id=site,
                        room_id=None,
                        visit_type_id="follow-up",
                        start=start,
                        end=start + timedelta(minutes=20),
                        booked_at=datetime(2026, 2, 20, tzinfo=UTC),
                    )
                )
    return booked


async def run(per_day: int) -> None:
    clock = StillClock(datetime(2026, 3, 1, 8, tzinfo=UTC))
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-reminders-") as tmp:
        built = await _open(Path(tmp), clock)
        try:
            booked = bookings(per_day)
            sites = [
                SiteRegistered(site_id=site, name=f"Clinic {n}", time_zone=zone)
                for n, (site, zone) in enumerate(zip(SITES, ZONES, strict=True))
            ]
            patients = [
                PatientRegistered(
                    patient_id=b.patient_id,
                    name="Patient",
                    birth_date="1980-01-01",
                    phone="",
                    email=f"{b.patient_id}@example.test",
                    registered_at=datetime(2026, 2, 1, tzinfo=UTC),
                )
                for b in booked
            ]
            await _publish(built, [*sites, *patients])
            meta = Metadata(tenant=TENANT, actor="bench", correlation_id="bench-consent")
            for patient in patients:
                await built.use_cases.consents.opt_in(meta, patient.patient_id, "email", "patient")
            await _caught_up(built)

            started = time.perf_counter()
            await _publish(built, booked)
            await _caught_up(built)
            scheduling = time.perf_counter() - started
            planned = len(
                await built.kit.read_models.find(
                    DELIVERIES_PROJECTION, DELIVERIES, {"tenant": TENANT}
                )
            )

            # The clock moves through the month an hour at a time (a message fired after its
            # visit began is cancelled, not sent); each hour, the timer sends what is due.
            timer = DeliveryTimer(built.use_cases.delivery, batch=BATCH)
            started = time.perf_counter()
            sent = 0
            busy = 0.0  # the hours that sent something: the idle hours' one query each left out
            for hour in range(24 * 31):
                clock.at = datetime(2026, 3, 1, 8, tzinfo=UTC) + timedelta(hours=hour)
                began, before = time.perf_counter(), sent
                while released := await timer.fire_due():
                    sent += released
                    await _caught_up(built)  # the deliveries read model: what is due next
                if sent > before:
                    busy += time.perf_counter() - began
            sending = time.perf_counter() - started
        finally:
            await built.service.stop()
            await built.kit.backends.close()
    heading(
        f"Issue 17: appointment messages: {len(SITES)} sites, a month (March 2026), "
        f"{per_day} appointments a weekday at each: {len(booked):,} bookings"
    )
    print(
        f"scheduled: {planned:,} messages for {len(booked):,} bookings in {scheduling:.1f} s: "
        f"{planned / scheduling:,.0f} messages/s ({len(booked) / scheduling:,.0f} bookings/s)"
    )
    print(
        f"sent: {sent:,} messages in {sending:.1f} s for the month's 744 hours: "
        f"{sent / sending:,.0f} messages/s; in the hours that sent any, {busy:.1f} s: "
        f"{sent / busy:,.0f} messages/s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders", description=__doc__)
    parser.add_argument("--per-day", type=int, default=24, help="appointments a site a weekday")
    args = parser.parse_args(argv)
    asyncio.run(run(args.per_day))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
