"""How billing's published money events move receivables, per site, for days in AR: the same
rules as billing's receivables read model (its docstring, and BILLING2.md), applied to the
contract's events alone, so the KPI projection keeps a site's balance change per month without
reading billing's ledger. Pure: the projection keeps each claim's and patient's working state.

- A claim owes its payer its opening: its total (a void nothing; a secondary at most what the
  primary left to the patient), less what each adjudication takes off (`taken_off`), plus what
  a reversal puts back, less a write-off, less its remainder once replaced or voided.
- A patient owes what is assessed (at the visit's site), less payments and write-offs (the
  visit named first, then the oldest open visits, any rest a credit at the paying site), plus
  refunds (against credits first, then owed at no site).
"""

from __future__ import annotations

from typing import Any

from services.billing.contracts import Adjustment, ClaimAdjudicated

NO_SITE = ""  # money billing keeps at no site (a refund past every credit): no site's AR

OpenItem = dict[str, Any]  # a patient's visit or credit: site_id, date_of_service, charge_id


def taken_off(event: ClaimAdjudicated) -> int:
    """What an adjudication takes off the claim's insurance balance: paid, the payer's own
    adjustments (PR excluded) and the patient responsibility; a denial only what it paid and
    moved to the patient (its adjustments leave the claim owed)."""
    if event.outcome == "denied":
        return event.paid_cents + event.patient_responsibility_cents
    adjustments: list[Adjustment] = list(event.adjustments)
    for line in event.lines:
        adjustments.extend(line.adjustments)
    payer = sum(a.amount_cents for a in adjustments if a.group != "PR")
    return event.paid_cents + payer + event.patient_responsibility_cents


def _add(moved: dict[str, int], site: str, amount: int) -> None:
    moved[site] = moved.get(site, 0) + amount


def patient_moved(
    items: list[OpenItem],
    amount: int,
    *,
    visit: OpenItem | None = None,
    charge_id: str | None = None,
    site_id: str = NO_SITE,
    today: str,
) -> tuple[list[OpenItem], dict[str, int]]:
    """The patient's open items after `amount` (positive: owed for `visit`, or a refund
    without one; negative: a payment or write-off), and what it moved at each site."""
    items = [dict(i) for i in items]
    moved: dict[str, int] = {}
    if visit is not None:
        item = next((i for i in items if i.get("charge_id") == visit.get("charge_id")), None)
        if item is None:
            item = {**visit, "open_cents": 0}
            items.append(item)
        item["open_cents"] = int(item["open_cents"]) + amount
        _add(moved, str(item["site_id"]), amount)
    elif amount < 0:
        left = -amount
        order = sorted(
            (i for i in items if int(i["open_cents"]) > 0),
            key=lambda i: (i.get("charge_id") != charge_id, str(i["date_of_service"])),
        )
        for item in order:
            taken = min(left, int(item["open_cents"]))
            item["open_cents"] = int(item["open_cents"]) - taken
            left -= taken
            _add(moved, str(item["site_id"]), -taken)
        if left:
            credit = {"site_id": site_id, "date_of_service": today, "charge_id": None}
            items.append({**credit, "open_cents": -left})
            _add(moved, site_id, -left)
    else:
        back = amount
        for item in sorted(
            (i for i in items if int(i["open_cents"]) < 0), key=lambda i: str(i["date_of_service"])
        ):
            given = min(back, -int(item["open_cents"]))
            item["open_cents"] = int(item["open_cents"]) + given
            back -= given
            _add(moved, str(item["site_id"]), given)
        if back:
            owed = {"site_id": NO_SITE, "date_of_service": today, "charge_id": None}
            items.append({**owed, "open_cents": back})
            _add(moved, NO_SITE, back)
    kept = [i for i in items if int(i["open_cents"]) != 0]
    return kept, {site: cents for site, cents in moved.items() if cents}
