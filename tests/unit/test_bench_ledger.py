"""The ledger benchmark runs end to end at a small size: its chain verifies, its package
verifies offline, and every figure counts the same events (nothing is asserted of speed)."""

from __future__ import annotations

from pathlib import Path

from bench.ledger import run


async def test_the_ledger_benchmark_measures_the_same_events_throughout(tmp_path: Path) -> None:
    results = await run(250, 100, data_dir=tmp_path)
    figures = [getattr(results, name) for name in results.__dataclass_fields__]
    assert {f.events for f in figures} == {250}
    assert all(f.seconds > 0 for f in figures)
