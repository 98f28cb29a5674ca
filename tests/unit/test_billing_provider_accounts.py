"""PLB adjustments post to the payee's provider account once each."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.billing.domain.events import ProviderAdjustmentPosted
from services.billing.domain.provider_accounts import (
    adjustment_id_for,
    commands_for,
    provider_account,
)
from services.billing.domain.x12.remittance import ProviderAdjustment
from shared.domain import Invalid

AT = datetime(2026, 11, 26, 12, tzinfo=UTC)
PLBS = (
    ProviderAdjustment("1234567893", date(2026, 12, 31), "L6", "INTEREST", -125),
    ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "CLM7788", 5000),
    ProviderAdjustment("999999999", date(2026, 12, 31), "FB", "FWD", 300),
)


def test_a_remittances_adjustments_go_to_the_accounts_they_name_with_ids_by_position() -> None:
    commands = commands_for("R1", "payer-1", PLBS, AT)
    assert [c.provider_id for c in commands] == ["1234567893", "999999999"]
    events = provider_account.decide(provider_account.initial, commands[0])
    assert [e.adjustment_id for e in events if isinstance(e, ProviderAdjustmentPosted)] == [
        adjustment_id_for("R1", 0),
        adjustment_id_for("R1", 1),
    ]
    other = provider_account.decide(provider_account.initial, commands[1])
    assert [e.adjustment_id for e in other if isinstance(e, ProviderAdjustmentPosted)] == [
        adjustment_id_for("R1", 2)
    ]
    state = provider_account.fold(events)
    assert state.balance_cents == 4875


def test_the_same_remittance_again_posts_nothing_and_a_cut_short_posting_posts_only_the_rest() -> (
    None
):
    command = commands_for("R1", "payer-1", PLBS, AT)[0]
    events = provider_account.decide(provider_account.initial, command)
    assert provider_account.decide(provider_account.fold(events), command) == []
    resumed = provider_account.decide(provider_account.fold(events[:1]), command)
    assert [e.adjustment_id for e in resumed if isinstance(e, ProviderAdjustmentPosted)] == [
        adjustment_id_for("R1", 1)
    ]
    # another remittance's adjustment at the same position is its own
    other = commands_for("R2", "payer-1", PLBS[:1], AT)[0]
    assert len(provider_account.decide(provider_account.fold(events), other)) == 1


def test_an_adjustment_naming_no_provider_is_refused() -> None:
    bad = (ProviderAdjustment("", date(2026, 12, 31), "L6", "X", 1),)
    with pytest.raises(Invalid):
        provider_account.decide(provider_account.initial, commands_for("R1", None, bad, AT)[0])
