"""Charges: made from scheduling's completed visits, corrected, held and released by billers.

The reaction `ChargeCompletedVisits` turns each `VisitCompleted` into a `CreateCharge` on the
visit's charge stream (its id is the appointment's): a redelivery, or two handlers racing,
record it once (the second decides on the first's charge and records nothing).

Pricing needs the patient's account as billing learnt it (`streams.patient_account`, filled by
the learning reactor): the primary coverage's payer, else self-pay. A visit of a patient billing
has not learnt yet is not charged to self-pay by guesswork: `PatientNotLearnt` (a `RetryLater`)
leaves the event unacknowledged, and the bus delivers it again until the account is there.

The date of service is the date of the visit's `start` at its site: billing learns each site's
time zone from scheduling's `SiteRegistered` (`LearnSiteZones`, a consumer group of its own, so
that a visit waiting for its site never holds back the site it waits for); a visit at a site
not learnt yet is tried again later (`SiteNotLearnt`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from services.billing.application.codebook import Icd10CodeBook
from services.billing.domain import accounts, charges, fees, sites, streams
from services.billing.domain.charges import (
    CodedLine,
    CorrectCharge,
    CreateCharge,
    HoldCharge,
    Pricing,
    ReleaseCharge,
    RepriceCharge,
)
from services.billing.domain.claims import claim_id_for
from services.billing.domain.coding import CodeBook
from services.billing.domain.events import (
    SELF_PAY,
    ChargeCreated,
    CoverageLearnt,
    PayerDefined,
)
from services.billing.projections import charges as view
from services.scheduling.contracts import SiteRegistered, VisitCompleted
from shared.commands import CommandHandler, Outcome
from shared.documents.port import Document
from shared.domain import Decider, NotFound
from shared.errors import RetryLater
from shared.events import DomainEvent, Envelope, Metadata
from shared.readmodels import ReadModels
from shared.usecases import UseCases

SYSTEM = "system:billing"


class PatientNotLearnt(RetryLater):
    """Billing has not learnt the visit's patient yet: try the visit again later."""


class SiteNotLearnt(RetryLater):
    """Billing has not learnt the visit's site (its time zone) yet: try the visit again later."""


def _nothing(_: Any, __: Any) -> Sequence[DomainEvent]:
    return []


def _payer_name(name: str | None, event: DomainEvent) -> str | None:
    return event.name if isinstance(event, PayerDefined) else name


patient_account = Decider[accounts.PatientAccount, None](
    accounts.PatientAccount(), accounts.evolve, _nothing
)
fee_schedule = Decider[fees.FeeSchedule, None](fees.FeeSchedule(), fees.evolve, _nothing)
payer_name = Decider[str | None, None](None, _payer_name, _nothing)


def caused_by(envelope: Envelope) -> Metadata:
    return Metadata.reacting_to(envelope, SYSTEM)


class Charges(UseCases):
    """A charge's life: made from a completed visit, corrected, held, released; and reads."""

    def __init__(
        self, handler: CommandHandler, read_models: ReadModels, book: CodeBook | None = None
    ) -> None:
        super().__init__(handler)
        self._read_models = read_models
        self._book: CodeBook = book or Icd10CodeBook()

    async def pricing(self, tenant: str, payer_id: str) -> Pricing:
        """The payer's fee schedule (every version), its name and the code book."""
        schedule = await self.state(streams.fee_schedule(tenant, payer_id), fee_schedule)
        name = await self.state(streams.payer(tenant, payer_id), payer_name)
        if name is None:
            name = "self-pay" if payer_id == SELF_PAY else payer_id
        return Pricing(payer_id=payer_id, payer_name=name, schedule=schedule, book=self._book)

    async def charge_visit(
        self, meta: Metadata, visit: VisitCompleted, event_id: str
    ) -> Outcome[charges.Charge]:
        """The visit's charge, made once (nothing new if it is there already)."""
        stream = streams.charge(meta.tenant, visit.appointment_id)
        state = await self.state(stream, charges.charge)
        if state.created is not None:
            return Outcome(stream, await self.stream_version(stream), (), state)
        account = await self.state(
            streams.patient_account(meta.tenant, visit.patient_id), patient_account
        )
        if account.demographics is None and not account.forgotten:
            # Not learnt yet (the learning reactor reads the same topic in its own group):
            # try again later. A patient forgotten before billing learnt them is charged
            # with what billing knows (no coverage: self-pay) rather than never.
            raise PatientNotLearnt(f"billing has not learnt patient of visit {event_id} yet")
        site = await self.state(streams.site(meta.tenant, visit.site_id), sites.site)
        if site.time_zone is None:
            raise SiteNotLearnt(f"billing has not learnt the site of visit {event_id} yet")
        primary = account.primary
        payer_id = primary.payer_id if primary is not None else SELF_PAY
        command = CreateCharge(
            charge_id=visit.appointment_id,
            appointment_id=visit.appointment_id,
            patient_id=visit.patient_id,
            site_id=visit.site_id,
            provider_id=visit.provider_id,
            date_of_service=visit.start.astimezone(ZoneInfo(site.time_zone)).date(),
            procedures=visit.procedures,
            diagnoses=visit.diagnoses,
            pricing=await self.pricing(meta.tenant, payer_id),
            created_at=self.now(),
            learnt_from=event_id,
        )
        meta = meta.model_copy(update={"site": visit.site_id})
        return await self.decide(
            stream, charges.charge, command, meta, subject=visit.appointment_id
        )

    async def learn_site_zone(
        self, meta: Metadata, event: SiteRegistered, event_id: str
    ) -> Outcome[sites.Site]:
        command = sites.LearnSiteZone(
            site_id=event.site_id, time_zone=event.time_zone, learnt_from=event_id
        )
        stream = streams.site(meta.tenant, event.site_id)
        return await self.decide(stream, sites.site, command, meta, subject=event.site_id)

    async def _charge(self, tenant: str, charge_id: str) -> charges.Charge:
        state = await self.state(streams.charge(tenant, charge_id), charges.charge)
        if state.created is None:
            raise NotFound(f"charge {charge_id} not found")
        return state

    async def site_of(self, tenant: str, charge_id: str) -> str:
        """The charge's site, from the event store (404 when there is no such charge)."""
        created = (await self._charge(tenant, charge_id)).created
        assert created is not None
        return created.site_id

    async def correct(
        self,
        meta: Metadata,
        charge_id: str,
        diagnoses: Sequence[str],
        lines: Sequence[CodedLine],
        reason: str,
    ) -> Outcome[charges.Charge]:
        state = await self._charge(meta.tenant, charge_id)
        created = state.created
        assert created is not None
        assert state.payer_id is not None
        command = CorrectCharge(
            charge_id=charge_id,
            diagnoses=tuple(diagnoses),
            lines=tuple(lines),
            reason=reason,
            pricing=await self.pricing(meta.tenant, state.payer_id),
            corrected_at=self.now(),
        )
        return await self._decide(meta, created.site_id, charge_id, command)

    async def hold(self, meta: Metadata, charge_id: str, reason: str) -> Outcome[charges.Charge]:
        site_id = await self.site_of(meta.tenant, charge_id)
        command = HoldCharge(charge_id=charge_id, reason=reason, held_at=self.now())
        return await self._decide(meta, site_id, charge_id, command)

    async def release(self, meta: Metadata, charge_id: str) -> Outcome[charges.Charge]:
        state = await self._charge(meta.tenant, charge_id)
        created = state.created
        assert created is not None
        assert state.payer_id is not None
        command = ReleaseCharge(
            charge_id=charge_id,
            pricing=await self.pricing(meta.tenant, state.payer_id),
            released_at=self.now(),
        )
        return await self._decide(meta, created.site_id, charge_id, command)

    async def reprice(self, meta: Metadata, charge_id: str) -> Outcome[charges.Charge] | None:
        """A self-pay charge priced again under the patient's primary coverage, if billing has
        learnt one since and no claim exists for the charge (decided from the event store; the
        coverage fact's id makes a redelivery reprice nothing). None: nothing to reprice."""
        state = await self._charge(meta.tenant, charge_id)
        created = state.created
        assert created is not None
        if state.payer_id != SELF_PAY:
            return None
        account = await self.state(
            streams.patient_account(meta.tenant, created.patient_id), patient_account
        )
        primary = account.primary
        if primary is None or primary.payer_id == SELF_PAY:
            return None
        claimed = await self.stream_version(streams.claim(meta.tenant, claim_id_for(charge_id)))
        command = RepriceCharge(
            charge_id=charge_id,
            pricing=await self.pricing(meta.tenant, primary.payer_id),
            claimed=claimed > 0,
            learnt_from=primary.learnt_from,
            corrected_at=self.now(),
        )
        return await self._decide(meta, created.site_id, charge_id, command)

    async def self_pay_charges(self, tenant: str, patient_id: str) -> list[str]:
        """The ids of the patient's charges priced self-pay (from the charges read model: a
        charge it has not seen yet is repriced when its own creation comes by)."""
        where = {"tenant": tenant, "patient_id": patient_id, "payer_id": SELF_PAY}
        found = await self._read_models.find(
            view.PROJECTION, view.CHARGES, where, (("charge_id", 1),), 10_000
        )
        return [str(doc["charge_id"]) for doc in found]

    async def _decide(
        self, meta: Metadata, site_id: str, charge_id: str, command: charges.ChargeCommand
    ) -> Outcome[charges.Charge]:
        meta = meta.model_copy(update={"site": site_id})
        stream = streams.charge(meta.tenant, charge_id)
        return await self.decide(stream, charges.charge, command, meta, subject=charge_id)

    # ------------------------------------------------------------------------------- reads

    async def get(self, tenant: str, charge_id: str) -> Document | None:
        return await self._read_models.get(
            view.PROJECTION, view.CHARGES, view.doc_id(tenant, charge_id)
        )

    async def find(
        self,
        tenant: str,
        *,
        status: str | None = None,
        sites: Sequence[str] | None = None,
        with_issues: bool = False,
        limit: int = 500,
        after: tuple[str, str] | None = None,
    ) -> list[Document]:
        """Charges, oldest date of service first (then by id); `sites` None: every site.
        `after`: the (date of service, charge id) the page before ended with; the rest of that
        day is read first, then the days after it, each an index range."""
        where: dict[str, Any] = {"tenant": tenant}
        if status is not None:
            where["status"] = status
        if sites is not None:
            where["site_id"] = {"$in": list(sites)}
        if with_issues:
            where["issue_count"] = {"$gt": 0}
        order = (("date_of_service", 1), ("charge_id", 1))
        if after is None:
            return await self._read_models.find(view.PROJECTION, view.CHARGES, where, order, limit)
        day, charge_id = after
        same_day = {**where, "date_of_service": day, "charge_id": {"$gt": charge_id}}
        found = await self._read_models.find(view.PROJECTION, view.CHARGES, same_day, order, limit)
        if len(found) < limit:
            later = {**where, "date_of_service": {"$gt": day}}
            found += await self._read_models.find(
                view.PROJECTION, view.CHARGES, later, order, limit - len(found)
            )
        return found


class ChargeCompletedVisits:
    """Each completed visit becomes its charge, once."""

    name = "billing.charge_completed_visits"
    contexts = ("scheduling",)

    def __init__(self, charges: Charges) -> None:
        self._charges = charges

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, VisitCompleted):
            await self._charges.charge_visit(caused_by(envelope), event, envelope.id)


class LearnSiteZones:
    """Each site's time zone, for dates of service (its own consumer group: the charges'
    reactor may be waiting for it)."""

    name = "billing.learn_site_zones"
    contexts = ("scheduling",)

    def __init__(self, charges: Charges) -> None:
        self._charges = charges

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, SiteRegistered):
            await self._charges.learn_site_zone(caused_by(envelope), event, envelope.id)


class RepriceSelfPayCharges:
    """A coverage learnt after a visit was charged self-pay: the charge priced again under it
    (so the claims reaction makes its claim). Both orders are covered: a coverage learnt
    reprices the patient's self-pay charges the read model lists; a self-pay charge made looks
    at the patient's coverage in the event store (one the read model had not listed yet)."""

    name = "billing.reprice_self_pay_charges"
    contexts = ("billing",)

    def __init__(self, charges: Charges) -> None:
        self._charges = charges

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        meta = caused_by(envelope)
        match event:
            case CoverageLearnt(priority=1):
                for charge_id in await self._charges.self_pay_charges(
                    envelope.tenant, event.patient_id
                ):
                    await self._charges.reprice(meta, charge_id)
            case ChargeCreated(payer_id=payer_id) if payer_id == SELF_PAY:
                await self._charges.reprice(meta, event.charge_id)
