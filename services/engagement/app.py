"""The one place that wires the engagement service: its declaration for the service kit.

This slice runs a patient's channel consent and an appointment's messages: planned and stopped
from scheduling's appointments, sent when due through their channel (SMTP, an SMS gateway, or
the outbox for a channel with no server configured), with signed confirm and cancel links that
scheduling carries out; satisfaction surveys and the feedback cases detractors open
(`application/surveys.py`); the front desk's feedback cases, a privacy complaint's linked to
the incident compliance opens for it (`application/cases.py`); recalls by a manager's rule per visit
type, sent when due and listed per site until the patient books (`application/recalls.py`); the
office KPIs, summed from every context's contracts (`projections/kpis.py`), as JSON and as a
manager's page (`api/kpis.py`, `api/dashboard.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter

from services.billing.contracts import CONTRACT as BILLING
from services.compliance.contracts import CONTRACT as COMPLIANCE
from services.engagement import consumers
from services.engagement.api import cases as cases_api
from services.engagement.api import consent as consent_api
from services.engagement.api import dashboard as dashboard_api
from services.engagement.api import kpis as kpis_api
from services.engagement.api import links as links_api
from services.engagement.api import messages as messages_api
from services.engagement.api import outbox as outbox_api
from services.engagement.api import recalls as recalls_api
from services.engagement.api import surveys as surveys_api
from services.engagement.application.cases import Cases, LinkCaseIncidents
from services.engagement.application.consent import Consents
from services.engagement.application.delivery import Delivery
from services.engagement.application.links import LinkSigner, PatientLinkAnswers
from services.engagement.application.messages import AppointmentMessagesUseCases
from services.engagement.application.recalls import Recalls, RecallTimer, TrackRecalls
from services.engagement.application.senders import (
    OutboxSender,
    Sender,
    SmsGatewaySender,
    SmtpSender,
)
from services.engagement.application.sites import LearnSites, Sites
from services.engagement.application.surveys import Surveys
from services.engagement.contracts import CONTRACT, PatientRecordAccessed
from services.engagement.domain import (
    cases,
    consent,
    recall_rules,
    recalls,
    reminders,
    sites,
    streams,
    surveys,
)
from services.engagement.domain.events import Channel
from services.engagement.projections.cases import CasesProjection
from services.engagement.projections.contacts import ContactsProjection
from services.engagement.projections.deliveries import DeliveriesProjection
from services.engagement.projections.kpis import KpiProjection
from services.engagement.projections.link_answers import LinkAnswersProjection
from services.engagement.projections.nps import NpsProjection
from services.engagement.projections.recalls import RecallsProjection
from services.scheduling.contracts import CONTRACT as SCHEDULING
from services.staffing.contracts import CONTRACT as STAFFING
from shared.domain import disclosure_decider
from shared.http.throttle import Throttle
from shared.kit import Kit, ServiceSpec
from shared.reactions import Reaction
from shared.timers import Timer
from shared.usecases import Disclosures

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    consents: Consents
    sites: Sites
    messages: AppointmentMessagesUseCases
    delivery: Delivery
    outbox: OutboxSender
    disclosures: Disclosures
    links: PatientLinkAnswers
    surveys: Surveys
    cases: Cases
    recalls: Recalls
    public: Throttle  # every public route's (signed links), per client address


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
            starttls=s.engagement_smtp_starttls,
        )
    if s.engagement_sms_gateway_url:
        sms = SmsGatewaySender(s.engagement_sms_gateway_url, s.engagement_send_timeout)
    return {"email": email, "sms": sms}


async def application(kit: Kit) -> UseCases:
    consents = Consents(kit.handler)
    learnt_sites = Sites(kit.handler)
    messages = AppointmentMessagesUseCases(kit.handler, consents, learnt_sites)
    outbox = OutboxSender(kit.read_models.store, kit.phi_vault())
    signer = LinkSigner.from_settings(kit.settings)
    delivery = Delivery(
        kit.handler,
        consents,
        messages,
        kit.read_models,
        kit.phi_vault(),
        senders(kit, outbox),
        timedelta(seconds=kit.settings.engagement_lease_seconds),
        signer,
    )
    return UseCases(
        consents=consents,
        sites=learnt_sites,
        messages=messages,
        delivery=delivery,
        outbox=outbox,
        disclosures=Disclosures(
            kit.handler, disclosure_decider(PatientRecordAccessed), streams.record_access
        ),
        links=PatientLinkAnswers(kit.handler, signer, kit.read_models),
        surveys=Surveys(kit.handler, consents, messages, signer),
        cases=Cases(kit.handler, kit.read_models),
        recalls=Recalls(kit.handler, consents, learnt_sites, kit.read_models),
        public=Throttle(kit.settings.engagement_public_requests_per_minute),
    )


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    return [
        consent_api.build_router(app.consents, app.disclosures),
        messages_api.build_router(app.messages, app.disclosures),
        outbox_api.build_router(app.outbox, app.disclosures),
        links_api.build_router(app.links, app.public),
        surveys_api.build_public_router(app.surveys, app.public),
        surveys_api.build_router(
            app.surveys, kit.read_models, kit.settings.read_your_writes_timeout
        ),
        recalls_api.build_router(app.recalls, app.disclosures),
        cases_api.build_router(
            app.cases,
            kit.read_models,
            kit.phi_vault(),
            app.disclosures,
            kit.settings.read_your_writes_timeout,
        ),
        kpis_api.build_router(kpis_api.KpiReader(kit.read_models)),
        dashboard_api.build_router(kpis_api.KpiReader(kit.read_models), kit.clock),
    ]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return [
        LearnSites(app.sites),
        *consumers.reactions(app.messages, app.surveys),
        LinkCaseIncidents(app.cases),
        TrackRecalls(app.recalls),
    ]


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    every = kit.settings.engagement_delivery_seconds
    return [*consumers.timers(kit.settings, app.delivery), RecallTimer(app.recalls, every)]


SPEC = ServiceSpec(
    contract=CONTRACT,
    reads=CONTRACT.registry.merged(SCHEDULING.registry)
    .merged(BILLING.registry)
    .merged(STAFFING.registry)
    .merged(COMPLIANCE.registry),
    projections=(
        ContactsProjection,
        DeliveriesProjection,
        LinkAnswersProjection,
        NpsProjection,
        KpiProjection,
        CasesProjection,
        RecallsProjection,
    ),
    # What auditors' streams as of a time fold with (shared/http/streams.py), by stream kind.
    folds={
        "engagement-patient": consent.consent,
        "engagement-appointment": reminders.appointment_messages,
        "engagement-survey": surveys.survey,
        "engagement-case": cases.feedback_case,
        "engagement-site": sites.site,
        "engagement-recall": recalls.recall,
        "engagement-recall-rule": recall_rules.recall_rule,
    },
    application=application,
    reactions=reactions,
    timers=timers,
    routers=routers,
)
