"""A payee's provider account, on `streams.provider_account(tenant, provider_id)`: the PLB
adjustments payers made at the provider level (interest, offsets, recoupments, forwarding
balances), each posted once.

An adjustment's id is its remittance's id and its position among the remittance's PLB
adjustments (`adjustment_id_for`): taking the same remittance again, or resuming a posting cut
short, posts nothing twice. Positive amounts reduce a payment (what the payer holds back),
negative ones add to it (interest): the account's balance is their sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from services.billing.domain.events import ProviderAdjustmentPosted
from services.billing.domain.x12.remittance import ProviderAdjustment
from shared.domain import Decider, Invalid
from shared.events import DomainEvent


def adjustment_id_for(remittance_id: str, position: int) -> str:
    """A PLB adjustment's id: its remittance and its position (from 0) among its adjustments."""
    return f"{remittance_id}-PLB{position}"


@dataclass(frozen=True)
class ProviderAccount:
    posted: frozenset[str] = frozenset()
    balance_cents: int = 0  # held back from payments, less interest added
    adjustments: tuple[ProviderAdjustmentPosted, ...] = ()


def evolve(state: ProviderAccount, event: DomainEvent) -> ProviderAccount:
    if isinstance(event, ProviderAdjustmentPosted):
        return replace(
            state,
            posted=state.posted | {event.adjustment_id},
            balance_cents=state.balance_cents + event.amount_cents,
            adjustments=(*state.adjustments, event),
        )
    return state


@dataclass(frozen=True)
class Adjustment:
    position: int  # among the remittance's PLB adjustments, from 0
    fiscal_period_end: date
    reason: str
    reference: str
    amount_cents: int


@dataclass(frozen=True)
class PostAdjustments:
    """A remittance's PLB adjustments naming this provider (PLB01)."""

    provider_id: str
    remittance_id: str
    payer_id: str | None
    adjustments: tuple[Adjustment, ...]
    posted_at: datetime


def commands_for(
    remittance_id: str,
    payer_id: str | None,
    adjustments: Sequence[ProviderAdjustment],
    posted_at: datetime,
) -> tuple[PostAdjustments, ...]:
    """A remittance's PLB adjustments, one command per provider account they name (PLB01), each
    adjustment keeping its position in the remittance (its id)."""
    by_provider: dict[str, list[Adjustment]] = {}
    for position, a in enumerate(adjustments):
        by_provider.setdefault(a.provider_id, []).append(
            Adjustment(position, a.fiscal_period_end, a.reason, a.reference, a.amount_cents)
        )
    return tuple(
        PostAdjustments(provider_id, remittance_id, payer_id, tuple(items), posted_at)
        for provider_id, items in by_provider.items()
    )


def decide(state: ProviderAccount, command: PostAdjustments) -> Sequence[DomainEvent]:
    if not command.provider_id:
        raise Invalid("a provider adjustment names no provider (PLB01)")
    out: list[DomainEvent] = []
    for adjustment in command.adjustments:
        adjustment_id = adjustment_id_for(command.remittance_id, adjustment.position)
        if adjustment_id in state.posted or any(
            getattr(e, "adjustment_id", None) == adjustment_id for e in out
        ):
            continue
        out.append(
            ProviderAdjustmentPosted(
                adjustment_id=adjustment_id,
                remittance_id=command.remittance_id,
                payer_id=command.payer_id,
                provider_id=command.provider_id,
                fiscal_period_end=adjustment.fiscal_period_end,
                reason=adjustment.reason,
                reference=adjustment.reference,
                amount_cents=adjustment.amount_cents,
                posted_at=command.posted_at,
            )
        )
    return out


provider_account = Decider[ProviderAccount, PostAdjustments](ProviderAccount(), evolve, decide)
