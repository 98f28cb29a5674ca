"""Billing's reference data: payers and their plans, the billing provider of each site, and
fee schedules (per payer, and self-pay).

Commands decide on their own streams, folded from the event store: publishing a fee schedule
folds the payer's stream too (a payer must be defined first; SELF_PAY is built in). Reads come
from the read models (`projections/reference.py`); the fee in force on a day is picked with the
fee-schedule fold (`domain/fees.py`), the same rule a charge is priced by.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.billing.domain import streams
from services.billing.domain.billing_providers import SetBillingProvider, billing_provider
from services.billing.domain.events import (
    SELF_PAY,
    Fee,
    FeeScheduleVersionPublished,
    PostalAddress,
)
from services.billing.domain.fee_schedules import PublishFeeSchedule, fee_schedule
from services.billing.domain.fees import FeeSchedule, fee_of
from services.billing.domain.payers import DefinePayer, DefinePlan, payer
from services.billing.projections import reference as view
from shared.commands import CommandHandler, Outcome
from shared.documents.port import Document
from shared.domain import NotFound
from shared.events import Metadata
from shared.readmodels import ReadModels
from shared.usecases import UseCases


class ReferenceData(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    # ---------------------------------------------------------------------------- commands

    async def define_payer(
        self,
        meta: Metadata,
        *,
        payer_id: str,
        name: str,
        x12_payer_id: str,
        claim_filing_indicator: str,
    ) -> Outcome[Any]:
        """Define a payer, or change its details (the latest definition holds)."""
        command = DefinePayer(
            payer_id=payer_id,
            name=name,
            x12_payer_id=x12_payer_id,
            claim_filing_indicator=claim_filing_indicator,
            defined_at=self.now(),
        )
        stream = streams.payer(meta.tenant, payer_id)
        return await self.decide(stream, payer, command, meta, subject=payer_id)

    async def define_plan(
        self,
        meta: Metadata,
        *,
        payer_id: str,
        plan_id: str,
        name: str,
        claim_filing_indicator: str | None = None,
    ) -> Outcome[Any]:
        """Define a plan of a defined payer (404 otherwise), or change it."""
        command = DefinePlan(
            payer_id=payer_id,
            plan_id=plan_id,
            name=name,
            claim_filing_indicator=claim_filing_indicator,
            defined_at=self.now(),
        )
        stream = streams.payer(meta.tenant, payer_id)
        return await self.decide(stream, payer, command, meta, subject=payer_id)

    async def set_billing_provider(
        self,
        meta: Metadata,
        *,
        site_id: str,
        name: str,
        npi: str,
        tin: str,
        taxonomy_code: str,
        address: PostalAddress,
        place_of_service: str,
        facility_name: str,
        facility_address: PostalAddress,
    ) -> Outcome[Any]:
        command = SetBillingProvider(
            site_id=site_id,
            name=name,
            npi=npi,
            tin=tin,
            taxonomy_code=taxonomy_code,
            address=address,
            place_of_service=place_of_service,
            facility_name=facility_name,
            facility_address=facility_address,
            set_at=self.now(),
        )
        stream = streams.billing_provider(meta.tenant, site_id)
        return await self.decide(stream, billing_provider, command, meta, subject=site_id)

    async def publish_fees(
        self,
        meta: Metadata,
        *,
        payer_id: str,
        effective_from: date,
        fees: tuple[Fee, ...],
    ) -> Outcome[FeeSchedule]:
        """Publish the next version of a payer's fee schedule (404 for a payer not defined)."""
        if payer_id != SELF_PAY:
            known = await self.state(streams.payer(meta.tenant, payer_id), payer)
            if known.defined is None:
                raise NotFound(f"payer {payer_id} not found")
        command = PublishFeeSchedule(
            payer_id=payer_id,
            effective_from=effective_from,
            fees=fees,
            published_at=self.now(),
        )
        stream = streams.fee_schedule(meta.tenant, payer_id)
        return await self.decide(stream, fee_schedule, command, meta, subject=payer_id)

    # ------------------------------------------------------------------------------- reads

    async def payers(self, tenant: str) -> list[Document]:
        docs = await self._read_models.find(view.PAYERS_PROJECTION, view.PAYERS, {"tenant": tenant})
        return sorted(docs, key=lambda d: str(d["payer_id"]))

    async def payer(self, tenant: str, payer_id: str) -> Document:
        doc = await self._read_models.get(
            view.PAYERS_PROJECTION, view.PAYERS, view.doc_id(tenant, payer_id)
        )
        if doc is None:
            raise NotFound(f"payer {payer_id} not found")
        return doc

    async def billing_providers(self, tenant: str) -> list[Document]:
        docs = await self._read_models.find(
            view.BILLING_PROVIDERS_PROJECTION, view.BILLING_PROVIDERS, {"tenant": tenant}
        )
        return sorted(docs, key=lambda d: str(d["site_id"]))

    async def billing_provider(self, tenant: str, site_id: str) -> Document:
        doc = await self._read_models.get(
            view.BILLING_PROVIDERS_PROJECTION,
            view.BILLING_PROVIDERS,
            view.doc_id(tenant, site_id),
        )
        if doc is None:
            raise NotFound(f"site {site_id} has no billing provider")
        return doc

    async def fee_schedule(self, tenant: str, payer_id: str) -> Document:
        """A payer's versions (without their fees), oldest first."""
        doc = await self._read_models.get(
            view.FEE_SCHEDULES_PROJECTION, view.FEE_SCHEDULES, view.doc_id(tenant, payer_id)
        )
        if doc is None:
            raise NotFound(f"payer {payer_id} has no fee schedule")
        return doc

    async def fee_version(self, tenant: str, payer_id: str, version: int) -> Document | None:
        return await self._read_models.get(
            view.FEE_SCHEDULES_PROJECTION,
            view.FEE_VERSIONS,
            view.version_id(tenant, payer_id, version),
        )

    @staticmethod
    def version_in_force(schedule: Document, day: date) -> int | None:
        """Which version of a schedule is in force on `day` (None: none yet), by the fold's
        rule (`FeeSchedule.in_force`). The summary lists no fees, nor need it: the rule reads
        the effective dates and version numbers only."""
        versions = tuple(
            FeeScheduleVersionPublished(
                payer_id=schedule["payer_id"],
                schedule_version=v["schedule_version"],
                effective_from=date.fromisoformat(v["effective_from"]),
                fees=(),
                published_at=v["published_at"],
            )
            for v in schedule["versions"]
        )
        found = FeeSchedule(versions=versions).in_force(day)
        return found.schedule_version if found is not None else None

    @staticmethod
    def fee_in(version: Document, code: str, modifier: str) -> Fee | None:
        """The fee a version sets for `code` with `modifier` ("" none), by `fee_of`."""
        published = FeeScheduleVersionPublished(
            payer_id=version["payer_id"],
            schedule_version=version["schedule_version"],
            effective_from=date.fromisoformat(version["effective_from"]),
            fees=tuple(Fee(**f) for f in version["fees"]),
            published_at=version["published_at"],
        )
        return fee_of(published, code, (modifier,) if modifier else ())
