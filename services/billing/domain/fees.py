"""Fee schedules: every version a payer's schedule had, and the fee in force on a day.

A charge is priced once, when it is made, by the version in force on its date of service (the
latest `effective_from` on or before it); publishing a later version never reprices it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.billing.domain.events import Fee, FeeScheduleVersionPublished
from shared.events import DomainEvent


@dataclass(frozen=True)
class FeeSchedule:
    versions: tuple[FeeScheduleVersionPublished, ...] = ()

    def in_force(self, day: date) -> FeeScheduleVersionPublished | None:
        """The version in force on `day`: the latest effective on or before it (of two with
        the same date, the later published)."""
        best: FeeScheduleVersionPublished | None = None
        for version in self.versions:
            if version.effective_from <= day and (
                best is None
                or (version.effective_from, version.schedule_version)
                > (best.effective_from, best.schedule_version)
            ):
                best = version
        return best


def fee_of(
    version: FeeScheduleVersionPublished, code: str, modifiers: tuple[str, ...]
) -> Fee | None:
    """The fee for `code` under a version: one listed for the code with the line's first
    modifier if there is one, else the code's fee for any modifier; None when it lists none."""
    first = modifiers[0] if modifiers else ""
    plain: Fee | None = None
    for fee in version.fees:
        if fee.code != code:
            continue
        if fee.modifier and fee.modifier == first:
            return fee
        if not fee.modifier:
            plain = fee
    return plain


def evolve(state: FeeSchedule, event: DomainEvent) -> FeeSchedule:
    if isinstance(event, FeeScheduleVersionPublished):
        return FeeSchedule(versions=(*state.versions, event))
    return state
