"""PLB adjustments on the service layer: posted to the accounts they name, once each, however
often a remittance's posting runs (taken again, or resumed after a crash)."""

from __future__ import annotations

from datetime import date

from services.billing.app import UseCases
from services.billing.domain import streams
from services.billing.domain.x12.remittance import ProviderAdjustment
from shared.kit import Assembled
from tests.service.conftest import META

Built = Assembled[UseCases]
PLBS = (
    ProviderAdjustment("1234567893", date(2026, 12, 31), "L6", "INTEREST", -125),
    ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "CLM7788", 5000),
    ProviderAdjustment("999999999", date(2026, 12, 31), "FB", "FWD", 300),
)


async def test_a_remittances_plb_adjustments_post_once_to_each_account(
    billing_service: Built,
) -> None:
    accounts = billing_service.use_cases.provider_accounts
    assert await accounts.post_adjustments(META, "R1", "payer-1", PLBS) == 3
    assert await accounts.post_adjustments(META, "R1", "payer-1", PLBS) == 3  # again: nothing
    first = await accounts.account(META.tenant, "1234567893")
    assert first.balance_cents == 4875
    assert len(first.adjustments) == 2
    assert (await accounts.account(META.tenant, "999999999")).balance_cents == 300
    assert await accounts.stream_version(streams.provider_account(META.tenant, "1234567893")) == 2
