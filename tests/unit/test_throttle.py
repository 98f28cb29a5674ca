"""Public routes' limits: requests per address in a sliding window, the addresses remembered
bounded."""

from __future__ import annotations

import pytest

from shared.http.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_address_past_its_limit_waits_for_the_window_to_slide() -> None:
    clock = Clock()
    throttle = Throttle(3, window=60, clock=clock)
    assert [throttle.admit("1.2.3.4") for _ in range(3)] == [None, None, None]
    assert throttle.admit("1.2.3.4") == pytest.approx(60)
    assert throttle.admit("5.6.7.8") is None  # another address counts apart
    clock.now += 30
    assert throttle.admit("1.2.3.4") == pytest.approx(30)
    clock.now += 30
    assert throttle.admit("1.2.3.4") is None  # the first requests slid out of the window


def test_the_least_recently_seen_addresses_are_forgotten_first() -> None:
    throttle = Throttle(1, window=60, clock=Clock(), remember=2)
    assert throttle.admit("a") is None
    assert throttle.admit("b") is None
    assert throttle.admit("c") is None  # "a" forgotten
    assert throttle.admit("a") is None
    assert throttle.admit("c") is not None


def test_a_throttle_admits_something() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Throttle(0)
