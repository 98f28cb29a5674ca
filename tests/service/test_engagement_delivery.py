"""A message whose sender died between its release and the channel's answer is not lost: the
release is a lease, and once it is over the delivery timer offers the same attempt again, under
the same message id, so the channel can tell a resend from a new message (at least once). On
the service layer: scheduling's site and patient travel the bus to engagement's read models;
the appointment's messages are planned as engagement's reaction plans them at a booking."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.engagement.app import UseCases as EngagementUseCases
from services.engagement.application.delivery import Delivery, DeliveryTimer
from services.engagement.application.links import LinkSigner
from services.engagement.application.senders import Answer, Outgoing, Sender
from services.engagement.application.sites import SiteNotLearnt
from services.scheduling.app import UseCases as SchedulingUseCases
from services.scheduling.domain import directory
from shared.kit import Assembled
from tests.service.conftest import META
from tests.support import TestRunClock, wait_until

Engagement = Assembled[EngagementUseCases]
Scheduling = Assembled[SchedulingUseCases]
VISIT = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # well after the test run's clock


class ProcessDied(Exception):
    """The process ends mid-send: nothing after the channel's call runs."""


@dataclass
class Dying:
    """A channel whose caller dies while it sends: it saw the message, nobody its answer."""

    seen: list[Outgoing] = field(default_factory=list)

    async def send(self, message: Outgoing) -> Answer:
        self.seen.append(message)
        raise ProcessDied


@dataclass
class Accepting:
    seen: list[Outgoing] = field(default_factory=list)

    async def send(self, message: Outgoing) -> Answer:
        self.seen.append(message)
        return Answer("sent")


def timer(engagement: Engagement, sender: Sender, lease: timedelta) -> DeliveryTimer:
    """A delivery timer as one process runs it, with `sender` for e-mail."""
    app, kit = engagement.use_cases, engagement.kit
    delivery = Delivery(
        kit.handler,
        app.consents,
        app.messages,
        kit.read_models,
        kit.phi_vault(),
        {"email": sender, "sms": sender},
        lease,
        LinkSigner.from_settings(kit.settings),
    )
    return DeliveryTimer(delivery)


async def confirmation_planned(scheduling: Scheduling, engagement: Engagement) -> dict[str, Any]:
    cases = scheduling.use_cases.scheduling
    await cases.register_site(
        META, directory.RegisterSite(site_id="north", name="North", time_zone="America/New_York")
    )
    await cases.register_patient(
        META,
        patient_id="pat-1",
        name="Ada",
        birth_date=date(1980, 5, 6),
        phone="",
        email="ada@example.org",
    )
    await engagement.use_cases.consents.opt_in(META, "pat-1", "email", "front_desk")

    async def learnt() -> bool:
        try:
            await engagement.use_cases.messages.zone("acme", "north")
        except SiteNotLearnt:
            return False
        return True

    await wait_until(learnt, message="the site learnt from scheduling")
    await engagement.use_cases.messages.plan(META, "ap-1", "pat-1", "north", VISIT)

    async def due() -> list[dict[str, Any]]:
        return await engagement.use_cases.delivery.due(10)

    [confirmation] = await wait_until(due, message="the confirmation due")
    return confirmation


async def statuses(engagement: Engagement) -> dict[str, tuple[str, int]]:
    planned = await engagement.use_cases.messages.planned("acme", "ap-1")
    return {m.purpose: (m.status, m.attempt) for m in planned.state.messages.values()}


async def test_a_message_released_by_a_process_that_died_goes_again_after_its_lease(
    scheduling_service: Scheduling, engagement_service: Engagement
) -> None:
    confirmation = await confirmation_planned(scheduling_service, engagement_service)
    lease = timedelta(minutes=10)
    died, restarted = Dying(), Accepting()

    with pytest.raises(ProcessDied):
        await timer(engagement_service, died, lease).fire_due()
    assert (await statuses(engagement_service))["confirmation"] == ("released", 1)

    # Within the lease the attempt may still be answered: nobody sends it again.
    assert await timer(engagement_service, restarted, lease).fire_due() == 0
    assert restarted.seen == []

    clock = engagement_service.kit.clock
    assert isinstance(clock, TestRunClock)
    clock.shift = lease + timedelta(seconds=1)

    async def offered_again() -> int:
        return await timer(engagement_service, restarted, lease).fire_due()

    assert await wait_until(offered_again, message="the confirmation offered again") == 1
    [first] = died.seen
    [again] = restarted.seen
    assert again.message_id == first.message_id == confirmation["message_id"]
    assert (again.attempt, again.to, again.text) == (first.attempt, first.to, first.text)
    assert (await statuses(engagement_service))["confirmation"] == ("sent", 1)

    # Sent: never offered again, however late the timer.
    clock.shift = 3 * lease
    assert await timer(engagement_service, restarted, lease).fire_due() == 0
    assert len(restarted.seen) == 1
