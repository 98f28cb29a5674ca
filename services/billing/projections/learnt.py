"""What billing learnt, as read models: patients' accounts (demographics and the coverages in
force by priority, PHI still sealed: the API opens it) and rendering providers (name, NPI,
taxonomy, every enrolment change). Built from billing's own learnt events, so a document
shows what billing's commands decide from.
"""

from __future__ import annotations

from services.billing.domain.events import (
    CoverageLearnt,
    EnrolmentLearnt,
    PatientForgottenLearnt,
    PatientLearnt,
    ProviderLearnt,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

ACCOUNTS_PROJECTION = "billing.patient_accounts"
ACCOUNTS = "patient_accounts"
DEMOGRAPHICS_PHI = ("name", "birth_date", "sex", "address")
COVERAGE_PHI = ("member_id", "subscriber_name")

PROVIDERS_PROJECTION = "billing.rendering_providers"
PROVIDERS = "rendering_providers"


def doc_id(tenant: str, key: str) -> str:
    return f"{tenant}:{key}"


def _account(tenant: str, patient_id: str, doc: Document | None) -> Document:
    """The patient's document, begun by whichever fact comes first."""
    if doc is not None:
        return doc
    return {
        "tenant": tenant,
        "patient_id": patient_id,
        "known": False,  # demographics learnt
        "forgotten": False,
        "coverages": [],
    }


class PatientAccountsProjection:
    name = ACCOUNTS_PROJECTION
    contexts = ("billing",)
    collections = (ACCOUNTS,)
    handles = (PatientLearnt, CoverageLearnt, PatientForgottenLearnt)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, PatientLearnt | CoverageLearnt | PatientForgottenLearnt):
            return
        tenant, patient_id = envelope.tenant, event.patient_id
        fields = event.model_dump(mode="json", exclude={"patient_id", "learnt_from"})

        def change(doc: Document | None) -> Document:
            account = _account(tenant, patient_id, doc)
            match event:
                case PatientLearnt():
                    account.update(fields, known=True)
                case CoverageLearnt():
                    # As the account fold keeps them: one per priority, an id learnt again
                    # updated.
                    kept = [
                        c
                        for c in account["coverages"]
                        if c["coverage_id"] != event.coverage_id and c["priority"] != event.priority
                    ]
                    account["coverages"] = sorted([*kept, fields], key=lambda c: c["priority"])
                case PatientForgottenLearnt():
                    account["forgotten"] = True
            return account

        await view.change(ACCOUNTS, doc_id(tenant, patient_id), envelope, change)


class RenderingProvidersProjection:
    name = PROVIDERS_PROJECTION
    contexts = ("billing",)
    collections = (PROVIDERS,)
    handles = (ProviderLearnt, EnrolmentLearnt)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, ProviderLearnt | EnrolmentLearnt):
            return
        tenant, provider_id = envelope.tenant, event.provider_id

        def change(doc: Document | None) -> Document:
            provider = doc or {
                "tenant": tenant,
                "provider_id": provider_id,
                "name": None,
                "npi": None,
                "taxonomy_code": None,
                "enrolments": [],
            }
            match event:
                case ProviderLearnt():
                    for name in ("name", "npi", "taxonomy_code"):
                        value = getattr(event, name)
                        if value is not None:
                            provider[name] = value
                case EnrolmentLearnt():
                    provider["enrolments"].append(
                        event.model_dump(mode="json", exclude={"provider_id", "learnt_from"})
                    )
            return provider

        await view.change(PROVIDERS, doc_id(tenant, provider_id), envelope, change)
