"""Finance's bus consumers, both on billing's topic: what finance learns of billing's payers,
charges, claims and patient payments, onto its own streams (consumer group
`reactor.finance.learn_from_billing`), and revenue from every billing event that moves money
or gives a balance up, recognised once per billing event from those streams
(`reactor.finance.recognise_revenue`). Visits from scheduling's completed visits are a read
model (`projections/ledger.py`), not a reaction."""

from __future__ import annotations

from collections.abc import Sequence

from services.finance.application.learning import LearnFromBilling, Learning
from services.finance.application.revenue import RecogniseBillingRevenue, Revenue
from shared.reactions import Reaction


def reactions(learning: Learning, revenue: Revenue) -> Sequence[Reaction]:
    return [LearnFromBilling(learning), RecogniseBillingRevenue(revenue)]
