"""A visit type's recall rule, set once per interval; a recall due the rule's months after the
visit, not closed by the booking of the visit it follows, and sent once with or without a
message."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.engagement.domain.events import (
    PatientDueForRecall,
    RecallClosed,
    RecallRuleSet,
    RecallSent,
)
from services.engagement.domain.recall_rules import SetRecallRule, recall_rule
from services.engagement.domain.recalls import (
    CloseRecall,
    OpenRecall,
    SendRecall,
    months_after,
    recall,
)

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
VISIT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def test_a_rule_is_set_once_per_interval() -> None:
    set_six = SetRecallRule(visit_type_id="check-up", interval_months=6, set_by="m", now=NOW)
    [six] = recall_rule.decide(recall_rule.fold([]), set_six)
    assert six == RecallRuleSet(visit_type_id="check-up", interval_months=6, set_by="m", set_at=NOW)
    assert recall_rule.decide(recall_rule.fold([six]), set_six) == []
    twelve = set_six.model_copy(update={"interval_months": 12})
    changed = recall_rule.decide(recall_rule.fold([six]), twelve)
    assert [e.interval_months for e in changed if isinstance(e, RecallRuleSet)] == [12]


def test_months_after_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_after(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert months_after(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert months_after(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert months_after(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_a_recall_follows_its_rule_ignores_its_own_visits_booking_and_is_sent_once() -> None:
    opening = OpenRecall(
        patient_id="pt-1",
        site_id="north",
        last_visit_on=date(2026, 12, 1),
        interval_months=6,
        visit_type_id="check-up",
        appointment_id="ap-1",
        visit_start=VISIT,
    )
    [opened] = recall.decide(recall.fold([]), opening)
    assert isinstance(opened, PatientDueForRecall)
    assert (opened.due_on, opened.recall_kind) == (date(2027, 6, 1), "periodic")
    own = CloseRecall(patient_id="pt-1", appointment_id="ap-1", today=date(2026, 12, 2))
    assert recall.decide(recall.fold([opened]), own) == []  # its own booking, read late
    send = SendRecall(patient_id="pt-1", message_id=None, today=date(2027, 6, 1))
    [sent] = recall.decide(recall.fold([opened]), send)
    assert isinstance(sent, RecallSent)
    assert sent.message_id is None
    assert recall.decide(recall.fold([opened, sent]), send) == []
    other = CloseRecall(patient_id="pt-1", appointment_id="ap-2", today=date(2027, 6, 2))
    closed = recall.decide(recall.fold([opened, sent]), other)
    assert [e.appointment_id for e in closed if isinstance(e, RecallClosed)] == ["ap-2"]
