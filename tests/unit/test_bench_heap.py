"""The benchmarks keep their own fixtures out of the garbage collector's walks while the clock
runs, and gives them back after, whatever happens in between."""

from __future__ import annotations

import gc

import pytest

from bench.heap import fixtures_frozen


def test_what_is_alive_is_frozen_while_the_block_runs_and_thawed_after() -> None:
    fixtures = [[n] for n in range(1000)]  # lists: always tracked
    assert gc.get_freeze_count() == 0
    with fixtures_frozen():
        assert gc.get_freeze_count() >= len(fixtures)
        assert not any(o is fixtures[0] for o in gc.get_objects())  # no walk reaches it
    assert gc.get_freeze_count() == 0
    assert any(o is fixtures[0] for o in gc.get_objects())


def test_a_failing_block_thaws_them_too() -> None:
    with pytest.raises(RuntimeError), fixtures_frozen():
        raise RuntimeError("the bench failed")
    assert gc.get_freeze_count() == 0
