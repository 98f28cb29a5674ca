"""The one place that wires the engagement service: its declaration for the service kit.

This slice runs a patient's channel consent and an appointment's messages: planned and stopped
from scheduling's appointments, sent when due through their channel (SMTP, an SMS gateway, or
the outbox for a channel with no server configured). Recalls, surveys, feedback cases and the
KPIs have their deciders (`domain/`) but are not wired yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter

from services.engagement import consumers
from services.engagement.api import consent as consent_api
from services.engagement.api import messages as messages_api
from services.engagement.api import outbox as outbox_api
from services.engagement.application.consent import Consents
from services.engagement.application.delivery import Delivery
from services.engagement.application.messages import AppointmentMessagesUseCases
from services.engagement.application.senders import (
    OutboxSender,
    Sender,
    SmsGatewaySender,
    SmtpSender,
)
from services.engagement.contracts import CONTRACT, PatientRecordAccessed
from services.engagement.domain import consent, reminders, streams
from services.engagement.domain.events import Channel
from services.engagement.projections.contacts import ContactsProjection
from services.engagement.projections.deliveries import DeliveriesProjection
from services.engagement.projections.sites import SitesProjection
from services.scheduling.contracts import CONTRACT as SCHEDULING
from shared.domain import disclosure_decider
from shared.kit import Kit, ServiceSpec
from shared.reactions import Reaction
from shared.timers import Timer
from shared.usecases import Disclosures

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    consents: Consents
    messages: AppointmentMessagesUseCases
    delivery: Delivery
    outbox: OutboxSender
    disclosures: Disclosures


def senders(kit: Kit, outbox: OutboxSender) -> dict[Channel, Sender]:
    """Each channel's sender: its server if the settings name one, else the outbox."""
    s = kit.settings
    email: Sender = outbox
    sms: Sender = outbox
    if s.engagement_smtp_host:
        email = SmtpSender(
            s.engagement_smtp_host,
            s.engagement_smtp_port,
            s.engagement_smtp_sender,
            s.engagement_send_timeout,
        )
    if s.engagement_sms_gateway_url:
        sms = SmsGatewaySender(s.engagement_sms_gateway_url, s.engagement_send_timeout)
    return {"email": email, "sms": sms}


async def application(kit: Kit) -> UseCases:
    consents = Consents(kit.handler)
    messages = AppointmentMessagesUseCases(kit.handler, consents, kit.read_models)
    outbox = OutboxSender(kit.read_models.store, kit.phi_vault())
    delivery = Delivery(
        kit.handler,
        consents,
        messages,
        kit.read_models,
        kit.phi_vault(),
        senders(kit, outbox),
        timedelta(seconds=kit.settings.engagement_lease_seconds),
    )
    return UseCases(
        consents=consents,
        messages=messages,
        delivery=delivery,
        outbox=outbox,
        disclosures=Disclosures(
            kit.handler, disclosure_decider(PatientRecordAccessed), streams.record_access
        ),
    )


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    return [
        consent_api.build_router(app.consents, app.disclosures),
        messages_api.build_router(app.messages, app.disclosures),
        outbox_api.build_router(app.outbox, app.disclosures),
    ]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return consumers.reactions(app.messages)


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return consumers.timers(kit.settings, app.delivery)


SPEC = ServiceSpec(
    contract=CONTRACT,
    reads=CONTRACT.registry.merged(SCHEDULING.registry),
    projections=(SitesProjection, ContactsProjection, DeliveriesProjection),
    # What auditors' streams as of a time fold with (shared/http/streams.py), by stream kind.
    folds={
        "engagement-patient": consent.consent,
        "engagement-appointment": reminders.appointment_messages,
    },
    application=application,
    reactions=reactions,
    timers=timers,
    routers=routers,
)
