"""The policy decider: given these events, when this command, then these events (or this
refusal)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.compliance.domain.policies import (
    AcknowledgePolicy,
    PolicyAcknowledged,
    PolicyAcknowledgementReminded,
    PolicyPublished,
    PolicyRetired,
    PublishPolicy,
    RemindStaff,
    RetirePolicy,
    policy,
)
from shared.domain import DomainError, Invalid, NotFound, Rejected
from shared.events import DomainEvent

AT = datetime(2026, 11, 26, 9, tzinfo=UTC)


def publish(new: bool = True, **change: Any) -> PublishPolicy:
    fields: dict[str, Any] = {
        "policy_id": "conduct",
        "title": "Code of conduct",
        "body": "Be kind.",
        "effective_on": date(2026, 11, 1),
        "roles": ("nurse",),
        "acknowledge_within_days": 10,
        "new": new,
    }
    return PublishPolicy(**(fields | change))


def published(version: int = 1, effective_on: date = date(2026, 11, 1)) -> PolicyPublished:
    return PolicyPublished(
        policy_id="conduct",
        policy_version=version,
        title="Code of conduct",
        body="Be kind.",
        effective_on=effective_on,
        roles=("nurse",),
        acknowledge_within_days=10,
    )


def acknowledged(employee_id: str = "n1", version: int = 1) -> PolicyAcknowledged:
    return PolicyAcknowledged(
        policy_id="conduct", policy_version=version, employee_id=employee_id, acknowledged_at=AT
    )


def then(given: list[DomainEvent], command: Any) -> list[DomainEvent]:
    return list(policy.decide(policy.fold(given), command))


def test_a_new_policy_is_published_as_version_1() -> None:
    assert then([], publish()) == [published()]


def test_a_next_version_counts_on_from_the_current_one() -> None:
    events = then([published(), acknowledged()], publish(False, effective_on=date(2026, 11, 5)))
    assert events == [published(2, date(2026, 11, 5))]


@pytest.mark.parametrize(
    ("given", "command", "refusal"),
    [
        ([published()], publish(), Rejected),  # the id is taken
        ([], publish(False), NotFound),  # no policy to revise
        ([published()], publish(False, effective_on=date(2026, 10, 1)), Invalid),  # earlier
        ([], publish(body=None), Invalid),  # no text, no document
        ([], publish(body=None, document_url="https://x/p.pdf"), Invalid),  # no digest
        (
            [
                published(),
                PolicyRetired(policy_id="conduct", retired_on=date(2026, 11, 2), reason="r"),
            ],
            publish(False),
            Rejected,
        ),
    ],
    ids=["taken", "unknown", "earlier", "no-text", "no-digest", "retired"],
)
def test_publishing_refuses(
    given: list[DomainEvent], command: PublishPolicy, refusal: type[DomainError]
) -> None:
    with pytest.raises(refusal):
        then(given, command)


def test_a_document_kept_elsewhere_is_enough_with_its_digest() -> None:
    command = publish(body=None, document_url="https://x/p.pdf", document_sha256="a" * 64)
    [event] = then([], command)
    assert isinstance(event, PolicyPublished)
    assert event.document_sha256 == "a" * 64


def test_an_employee_acknowledges_the_current_version_once() -> None:
    command = AcknowledgePolicy(policy_version=1, employee_id="n1", acknowledged_at=AT)
    assert then([published()], command) == [acknowledged()]
    assert then([published(), acknowledged()], command) == []
    assert then([published(), acknowledged("n2")], command) == [acknowledged()]


@pytest.mark.parametrize(
    ("given", "version", "refusal"),
    [
        ([], 1, NotFound),
        ([published(), published(2)], 1, Rejected),  # superseded
        ([published()], 2, Rejected),  # not published yet
        (
            [
                published(),
                PolicyRetired(policy_id="conduct", retired_on=date(2026, 11, 2), reason="r"),
            ],
            1,
            Rejected,
        ),
    ],
    ids=["unknown", "superseded", "future", "retired"],
)
def test_acknowledging_refuses(
    given: list[DomainEvent], version: int, refusal: type[DomainError]
) -> None:
    command = AcknowledgePolicy(policy_version=version, employee_id="n1", acknowledged_at=AT)
    with pytest.raises(refusal):
        then(given, command)


def test_retiring_once_on_or_after_the_current_version() -> None:
    retire = RetirePolicy(retired_on=date(2026, 11, 20), reason="superseded")
    retired = PolicyRetired(policy_id="conduct", retired_on=date(2026, 11, 20), reason="superseded")
    assert then([published()], retire) == [retired]
    with pytest.raises(Rejected):
        then([published(), retired], retire)
    with pytest.raises(NotFound):
        then([], retire)
    with pytest.raises(Invalid):
        then([published()], RetirePolicy(retired_on=date(2026, 10, 1), reason="r"))


def reminded(*employee_ids: str, day: date = date(2026, 11, 26)) -> PolicyAcknowledgementReminded:
    return PolicyAcknowledgementReminded(
        policy_id="conduct", policy_version=1, employee_ids=employee_ids, reminded_on=day
    )


def test_reminders_go_to_whoever_owes_the_current_version_once_a_day() -> None:
    remind = RemindStaff(employee_ids=("n3", "n1", "n2", "n1"), reminded_on=date(2026, 11, 26))
    given: list[DomainEvent] = [published(), acknowledged("n2")]
    assert then(given, remind) == [reminded("n1", "n3")]  # n2 acknowledged; by id, once
    given.append(reminded("n1", "n3"))
    assert then(given, remind) == []  # reminded today already
    tomorrow = remind.model_copy(update={"reminded_on": date(2026, 11, 27)})
    assert then(given, tomorrow) == [reminded("n1", "n3", day=date(2026, 11, 27))]
    # A new version is owed again, by everyone, whoever was reminded of the old one.
    [event] = then([*given, published(2)], remind)
    assert isinstance(event, PolicyAcknowledgementReminded)
    assert (event.policy_version, event.employee_ids) == (2, ("n1", "n2", "n3"))
    with pytest.raises(NotFound):
        then([], remind)
    retired = PolicyRetired(policy_id="conduct", retired_on=date(2026, 11, 20), reason="r")
    with pytest.raises(Rejected):
        then([published(), retired], remind)
