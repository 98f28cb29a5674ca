"""A visit type's recall rule, on `engagement-recall-rule-<visit type>`: a manager sets how many
months after a completed visit of the type the patient is due again. Set again with the same
interval, it records nothing; a visit type with no rule makes nobody due."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import AwareDatetime, Field

from services.engagement.domain.events import RecallRuleSet
from shared.domain import Command, Decider
from shared.events import DomainEvent


class SetRecallRule(Command):
    visit_type_id: str
    interval_months: int = Field(ge=1, le=120)
    set_by: str
    now: AwareDatetime


def _evolve(state: int | None, event: DomainEvent) -> int | None:
    return event.interval_months if isinstance(event, RecallRuleSet) else state


def _decide(state: int | None, c: SetRecallRule) -> Sequence[DomainEvent]:
    if state == c.interval_months:
        return []
    return [
        RecallRuleSet(
            visit_type_id=c.visit_type_id,
            interval_months=c.interval_months,
            set_by=c.set_by,
            set_at=c.now,
        )
    ]


recall_rule = Decider[int | None, SetRecallRule](None, _evolve, _decide)
