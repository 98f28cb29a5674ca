"""New ids: random, except inside a request that may run again, where they repeat."""

from __future__ import annotations

import asyncio

from shared.clock import UuidIds, repeatable_ids

ids = UuidIds()


def drawn(*parts: str) -> list[str]:
    with repeatable_ids(*parts):
        return [ids.new_id(), ids.event_id("acme:x", 1), ids.new_id()]


def test_ids_are_random_outside_a_repeatable_request() -> None:
    assert len({ids.new_id(), ids.new_id(), ids.event_id("acme:x", 1)}) == 3


def test_a_request_run_again_draws_the_same_ids() -> None:
    assert drawn("acme", "desk", "key-1") == drawn("acme", "desk", "key-1")
    assert len(set(drawn("acme", "desk", "key-1"))) == 3


def test_another_caller_key_or_body_draws_other_ids() -> None:
    first = set(drawn("acme", "desk", "key-1"))
    for other in (("globex", "desk", "key-1"), ("acme", "other", "key-1"), ("acme", "desk", "2")):
        assert not first & set(drawn(*other))


def test_events_recorded_or_not_do_not_shift_the_ids_drawn_after() -> None:
    with repeatable_ids("acme", "desk", "key-1"):
        recorded = [ids.new_id(), ids.event_id("acme:x", 7), ids.new_id()]
    with repeatable_ids("acme", "desk", "key-1"):
        unrecorded = [ids.new_id(), ids.new_id()]
    assert [recorded[0], recorded[2]] == unrecorded


def test_each_event_place_has_its_own_id() -> None:
    with repeatable_ids("acme", "desk", "key-1"):
        places = {ids.event_id(s, v) for s in ("acme:x", "acme:y") for v in (1, 2)}
    assert len(places) == 4


async def test_a_task_that_outlives_its_request_draws_random_ids() -> None:
    go_on = asyncio.Event()

    async def outlives() -> list[str]:
        await go_on.wait()
        return [ids.new_id(), ids.new_id()]

    with repeatable_ids("acme", "desk", "key-1"):
        task = asyncio.create_task(outlives())
    go_on.set()
    later = await task
    assert not set(later) & set(drawn("acme", "desk", "key-1"))
    assert later != drawn("acme", "desk", "key-1")[:2]
