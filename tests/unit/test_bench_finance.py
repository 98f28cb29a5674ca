"""The finance benchmark runs end to end at a small size: its month from the read model equals
the same month summed from the raw events (checked inside the run), and every figure after the
projection's counts every event (nothing is asserted of speed)."""

from __future__ import annotations

from bench.finance import run


async def test_the_finance_benchmark_answers_what_the_raw_events_say() -> None:
    fed, *reads = await run(600, 60)
    assert fed.events > 600 * 2  # a visit and its revenue, invoices, payroll
    assert {f.events for f in reads} == {fed.events}
    assert "visits" in reads[0].note
    assert all(f.seconds > 0 for f in (fed, *reads))
