"""CAS segments, as 837P loops 2320/2430 and the 835 carry them: a group (CO, PR, OA, PI, CR),
then up to six reason, amount, quantity triples; a seventh reason starts another CAS."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import ValidationError

from services.billing.domain.events import Adjustment
from services.billing.domain.x12.segments import (
    Segment,
    X12ValueError,
    amount,
    cents_of,
    element,
    ident,
    segment,
    whole_number,
)

REASONS_PER_SEGMENT = 6


def read_cas(cas: Segment) -> list[Adjustment]:
    group = element(cas, 1)
    found: list[Adjustment] = []
    for start in range(2, 2 + 3 * REASONS_PER_SEGMENT, 3):
        reason = element(cas, start)
        if not reason:
            continue
        quantity = element(cas, start + 2)
        try:
            found.append(
                Adjustment(
                    group=group,  # checked by the model (a Literal)
                    reason=reason,
                    amount_cents=cents_of(element(cas, start + 1)),
                    quantity=whole_number(quantity) if quantity else None,
                )
            )
        except ValidationError:
            raise X12ValueError(
                f"CAS {group}-{reason}: the group is not CO, PR, OA, PI or CR"
            ) from None
    return found


def write_cas(adjustments: tuple[Adjustment, ...]) -> Iterator[Segment]:
    """One CAS per group (in the order groups first appear), six reasons each."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    for group, items in by_group.items():
        for start in range(0, len(items), REASONS_PER_SEGMENT):
            elements: list[str] = [group]
            for item in items[start : start + REASONS_PER_SEGMENT]:
                quantity = "" if item.quantity is None else str(item.quantity)
                elements += [ident(item.reason, 5), amount(item.amount_cents), quantity]
            yield segment("CAS", *elements)
