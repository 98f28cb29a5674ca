"""Provider accounts (posting, billing II): the PLB adjustments payers posted to a payee's
account, read from its stream in the event store (so a read follows the posting that wrote it
without waiting). A payee spans sites: billers and admins read them, auditors too; managers,
the front desk and clinicians do not."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from services.billing.application.provider_accounts import ProviderAccounts
from shared.http.identity import Principal, policy
from shared.http.routes import Id

Readers = policy("biller", "auditor")


def build_router(accounts: ProviderAccounts) -> APIRouter:
    router = APIRouter(prefix="/billing/provider-accounts", tags=["remittances"])

    @router.get("/{provider_id}")
    async def account(provider_id: Id, who: Principal = Readers) -> dict[str, Any]:
        """The account's balance (held back by payers, less interest added) and adjustments."""
        state = await accounts.account(who.tenant, provider_id)
        if not state.adjustments:
            raise HTTPException(404, f"provider account {provider_id} has no adjustments")
        return {
            "provider_id": provider_id,
            "balance_cents": state.balance_cents,
            "adjustments": [e.model_dump(mode="json") for e in state.adjustments],
        }

    return router
