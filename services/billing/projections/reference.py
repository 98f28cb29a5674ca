"""Billing's reference data as read models: payers (with their plans), billing providers (one
per site) and fee schedules.

`payers`: one document per payer: its latest definition and each plan's latest.
`billing_providers`: one per site: the latest setting.
`fee_schedules`: one per payer (or self-pay): its versions, oldest first, without their fees
(the effective date, when published, how many fees); `fee_schedule_versions`: one per version,
with its fees. A schedule's versions are kept apart so that a payer's document stays small
however many versions it has. None of these events hold PHI.
"""

from __future__ import annotations

from services.billing.domain.events import (
    BillingProviderSet,
    FeeScheduleVersionPublished,
    PayerDefined,
    PlanDefined,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PAYERS_PROJECTION = "billing.payers"
PAYERS = "payers"
BILLING_PROVIDERS_PROJECTION = "billing.billing_providers"
BILLING_PROVIDERS = "billing_providers"
FEE_SCHEDULES_PROJECTION = "billing.fee_schedules"
FEE_SCHEDULES = "fee_schedules"
FEE_VERSIONS = "fee_schedule_versions"


def doc_id(tenant: str, some_id: str) -> str:
    return f"{tenant}:{some_id}"


def version_id(tenant: str, payer_id: str, version: int) -> str:
    return f"{tenant}:{payer_id}:{version}"


class PayersProjection:
    name = PAYERS_PROJECTION
    contexts = ("billing",)
    collections = (PAYERS,)
    handles: tuple[type[DomainEvent], ...] = (PayerDefined, PlanDefined)

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, PayerDefined | PlanDefined):
            return [(PAYERS, doc_id(envelope.tenant, event.payer_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        if isinstance(event, PayerDefined):
            fields = event.model_dump(mode="json")

            def define(doc: Document | None) -> Document:
                plans = (doc or {}).get("plans", [])
                return {"tenant": tenant, "stream": envelope.stream, **fields, "plans": plans}

            await view.change(PAYERS, doc_id(tenant, event.payer_id), envelope, define)
        elif isinstance(event, PlanDefined):
            plan = event.model_dump(mode="json", exclude={"payer_id"})

            def add_plan(doc: Document | None) -> Document | None:
                if doc is None:
                    return None  # never: a plan is defined only for a defined payer
                others = [p for p in doc.get("plans", []) if p["plan_id"] != event.plan_id]
                doc["plans"] = sorted([*others, plan], key=lambda p: str(p["plan_id"]))
                return doc

            await view.change(PAYERS, doc_id(tenant, event.payer_id), envelope, add_plan)


class BillingProvidersProjection:
    name = BILLING_PROVIDERS_PROJECTION
    contexts = ("billing",)
    collections = (BILLING_PROVIDERS,)
    handles: tuple[type[DomainEvent], ...] = (BillingProviderSet,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, BillingProviderSet):
            return
        tenant = envelope.tenant
        fields = event.model_dump(mode="json")

        def set_provider(_: Document | None) -> Document:
            return {"tenant": tenant, "stream": envelope.stream, **fields}

        await view.change(BILLING_PROVIDERS, doc_id(tenant, event.site_id), envelope, set_provider)


class FeeSchedulesProjection:
    name = FEE_SCHEDULES_PROJECTION
    contexts = ("billing",)
    collections = (FEE_SCHEDULES, FEE_VERSIONS)
    handles: tuple[type[DomainEvent], ...] = (FeeScheduleVersionPublished,)

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if not isinstance(event, FeeScheduleVersionPublished):
            return []
        tenant = envelope.tenant
        return [
            (FEE_SCHEDULES, doc_id(tenant, event.payer_id)),
            (FEE_VERSIONS, version_id(tenant, event.payer_id, event.schedule_version)),
        ]

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, FeeScheduleVersionPublished):
            return
        tenant = envelope.tenant
        fields = event.model_dump(mode="json")
        summary = {
            "schedule_version": event.schedule_version,
            "effective_from": fields["effective_from"],
            "published_at": fields["published_at"],
            "fee_count": len(event.fees),
        }

        def publish(_: Document | None) -> Document:
            return {"tenant": tenant, "stream": envelope.stream, **fields}

        def list_version(doc: Document | None) -> Document:
            versions = [
                v
                for v in (doc or {}).get("versions", [])
                if v["schedule_version"] != event.schedule_version
            ]
            return {
                "tenant": tenant,
                "stream": envelope.stream,
                "payer_id": event.payer_id,
                "versions": sorted([*versions, summary], key=lambda v: int(v["schedule_version"])),
            }

        key = version_id(tenant, event.payer_id, event.schedule_version)
        await view.change(FEE_VERSIONS, key, envelope, publish)
        await view.change(FEE_SCHEDULES, doc_id(tenant, event.payer_id), envelope, list_version)
