"""What a claim is made from, appended straight to billing's event store (the reference,
learning and charges areas write these in the running suite): a payer, a site's billing
provider, a patient with coverages, a rendering provider enrolled with payers, a released
charge. Synthetic people only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.application.claims import Claims
from services.billing.domain import streams
from services.billing.domain.events import (
    BillingProviderSet,
    ChargeCreated,
    ChargeLine,
    ChargeReleased,
    CoverageLearnt,
    EnrolmentLearnt,
    PatientLearnt,
    PayerDefined,
    PostalAddress,
    ProviderLearnt,
    registry,
)
from services.suite import Suite
from shared.clock import Clock, UuidIds
from shared.commands import CommandHandler
from shared.domain import Decider
from shared.events import DomainEvent, Metadata
from shared.phivault import PhiVault
from shared.readmodels import ReadModels
from shared.settings import Settings, key_bytes

AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)
OFFICE = PostalAddress(line1="100 Main St", city="Springfield", state="IL", postal_code="62701")


def _record(state: None, events: Sequence[DomainEvent]) -> Sequence[DomainEvent]:
    return events


RECORD = Decider[None, Sequence[DomainEvent]](None, lambda s, e: s, _record)


@dataclass(frozen=True)
class Facts:
    handler: CommandHandler
    meta: Metadata

    @property
    def tenant(self) -> str:
        return self.meta.tenant

    async def record(self, stream: str, *events: DomainEvent) -> None:
        await self.handler.handle(stream, RECORD, events, self.meta)

    async def payer(self, payer_id: str, indicator: str = "CI") -> None:
        event = PayerDefined(
            payer_id=payer_id,
            name=f"{payer_id.upper()} HEALTH",
            x12_payer_id=f"{payer_id.upper()}01",
            claim_filing_indicator=indicator,
            defined_at=AT,
        )
        await self.record(streams.payer(self.tenant, payer_id), event)

    async def billing_provider(self, site_id: str, name: str = "Riverside Medical Group") -> None:
        event = BillingProviderSet(
            site_id=site_id,
            name=name,
            npi="1234567893",
            tin="123456789",
            taxonomy_code="207Q00000X",
            address=OFFICE,
            place_of_service="11",
            facility_name=f"Riverside {site_id}",
            facility_address=PostalAddress(
                line1=f"9 {site_id.title()} Rd", city="Springfield", state="IL", postal_code="62704"
            ),
            set_at=AT,
        )
        await self.record(streams.billing_provider(self.tenant, site_id), event)

    async def patient(
        self, patient_id: str, address: str = "12 Elm St, Apt 4, Springfield, IL 62702"
    ) -> None:
        event = PatientLearnt(
            patient_id=patient_id,
            name="Jane Q Doe",
            birth_date="1980-05-17",
            sex="female",
            address=address,
            learnt_from=f"patient-{patient_id}-{address}",
        )
        await self.record(streams.patient_account(self.tenant, patient_id), event)

    async def coverage(
        self,
        patient_id: str,
        payer_id: str,
        priority: int = 1,
        relationship: str = "self",
        subscriber_name: str = "",
    ) -> None:
        event = CoverageLearnt(
            patient_id=patient_id,
            coverage_id=f"cov-{patient_id}-{priority}",
            payer_id=payer_id,
            plan="PPO",
            priority=priority,
            relationship=relationship,
            member_id=f"M{priority}{patient_id.upper().replace('-', '')}",
            subscriber_name=subscriber_name,
            group_number="G100",
            learnt_from=f"coverage-{patient_id}-{priority}",
        )
        await self.record(streams.patient_account(self.tenant, patient_id), event)

    async def provider(self, provider_id: str, *enrolled_with: str) -> None:
        stream = streams.rendering_provider(self.tenant, provider_id)
        await self.record(
            stream,
            ProviderLearnt(
                provider_id=provider_id,
                name="Gregory House",
                npi="1497758544",
                taxonomy_code="207Q00000X",
                learnt_from=f"provider-{provider_id}",
            ),
        )
        for payer_id in enrolled_with:
            await self.enrol(provider_id, payer_id)

    async def enrol(self, provider_id: str, payer_id: str) -> None:
        event = EnrolmentLearnt(
            provider_id=provider_id,
            payer_id=payer_id,
            status="enrolled",
            effective_from=date(2026, 1, 1),
            learnt_from=f"enrolment-{provider_id}-{payer_id}",
        )
        await self.record(streams.rendering_provider(self.tenant, provider_id), event)

    async def clinic(self, site_id: str = "north", *payers: str) -> None:
        """A site's billing provider, the payers defined, dr-a enrolled with each of them."""
        await self.billing_provider(site_id)
        for payer_id in payers or ("aetna",):
            await self.payer(payer_id)
        await self.provider("dr-a", *(payers or ("aetna",)))

    async def charge(
        self,
        charge_id: str,
        patient_id: str,
        payer_id: str = "aetna",
        site_id: str = "north",
        provider_id: str = "dr-a",
        released: bool = True,
        day: date = DAY,
    ) -> None:
        created = ChargeCreated(
            charge_id=charge_id,
            appointment_id=charge_id,
            patient_id=patient_id,
            site_id=site_id,
            provider_id=provider_id,
            date_of_service=day,
            diagnoses=("E11.9", "I10"),
            lines=(
                ChargeLine(
                    line_id="1", code="99213", units=1, diagnosis_pointers=(1, 2), fee_cents=12000
                ),
                ChargeLine(
                    line_id="2", code="36415", units=2, diagnosis_pointers=(1,), fee_cents=1500
                ),
            ),
            payer_id=payer_id,
            fee_schedule_version=1,
            created_at=AT,
            learnt_from=f"visit-{charge_id}",
        )
        events: list[DomainEvent] = [created]
        if released:
            events.append(ChargeReleased(charge_id=charge_id, released_at=AT))
        await self.record(streams.charge(self.tenant, charge_id), *events)


TOTAL_CENTS = 12000 + 2 * 1500


async def claim_file_use_cases(suite: Suite, facts: Facts, settings: Settings) -> ClaimFileUseCases:
    """The claim-file use cases the clearinghouse calls (a file recorded sent, a 999), on the
    running suite's billing store."""
    documents = await suite.backends.documents("billing")
    assert facts.handler.vault is not None
    claims = Claims(facts.handler, ReadModels(documents), facts.handler.vault)
    return ClaimFileUseCases(facts.handler, claims, settings)


async def suite_facts(
    suite: Suite, settings: Settings, clock: Clock, tenant: str = "acme"
) -> Facts:
    """Facts appended to the running suite's billing store, PHI sealed by billing's vault (as
    the learning reactor seals it), so the suite's claims reaction takes them up."""
    store = suite.service("billing").event_store
    assert store is not None
    vault = PhiVault(await suite.backends.key_vault(), key_bytes(settings.phi_kek))
    handler = CommandHandler(store, registry, clock, UuidIds(), vault=vault)
    return Facts(handler, Metadata(tenant=tenant, actor="facts", correlation_id="claim-facts"))
