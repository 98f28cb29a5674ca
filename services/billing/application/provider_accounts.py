"""Provider accounts: a remittance's PLB adjustments posted to the accounts they name
(`domain/provider_accounts.py` decides), each once, whatever is taken or resumed again."""

from __future__ import annotations

from collections.abc import Sequence

from services.billing.domain import provider_accounts, streams
from services.billing.domain.provider_accounts import ProviderAccount
from services.billing.domain.x12.remittance import ProviderAdjustment
from shared.events import Metadata
from shared.usecases import UseCases


class ProviderAccounts(UseCases):
    async def account(self, tenant: str, provider_id: str) -> ProviderAccount:
        return await self.state(
            streams.provider_account(tenant, provider_id), provider_accounts.provider_account
        )

    async def post_adjustments(
        self,
        meta: Metadata,
        remittance_id: str,
        payer_id: str | None,
        adjustments: Sequence[ProviderAdjustment],
    ) -> int:
        """Posts what was not posted before; answers how many adjustments the remittance has
        (posted now or before: a remittance's PLB count)."""
        for command in provider_accounts.commands_for(
            remittance_id, payer_id, adjustments, self.now()
        ):
            await self.decide(
                streams.provider_account(meta.tenant, command.provider_id),
                provider_accounts.provider_account,
                command,
                meta,
            )
        return len(adjustments)
