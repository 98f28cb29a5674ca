"""Finance's bus consumers: revenue from billing's posted patient and payer payments (and
reversals), recognised once per billing event (consumer group
`reactor.finance.recognise_revenue`). Visits from scheduling's completed visits are a read
model (`projections/ledger.py`), not a reaction."""

from __future__ import annotations

from collections.abc import Sequence

from services.finance.application.revenue import RecogniseBillingRevenue, Revenue
from shared.reactions import Reaction


def reactions(revenue: Revenue) -> Sequence[Reaction]:
    return [RecogniseBillingRevenue(revenue)]
