"""Printing figures: one table per measurement, rates in events per second."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """`events` went through `what` on `backend` in `seconds`."""

    what: str
    backend: str
    events: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def rate(value: float) -> str:
    return f"{value:,.0f}"


def ratio(ours: Figure, other: Figure) -> str:
    return f"{ours.rate / other.rate:.2f}x"


def heading(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


def table(figures: Sequence[Figure]) -> None:
    rows = [("backend", "measurement", "events", "seconds", "events/s", "note")]
    rows += [
        (f.backend, f.what, f"{f.events:,}", f"{f.seconds:.2f}", rate(f.rate), f.note)
        for f in figures
    ]
    _print_rows(rows, right={2, 3, 4})


def comparisons(lines: Sequence[tuple[str, Figure, Figure]]) -> None:
    """Ratios ours/baseline: above 1.00x means ours is faster."""
    rows = [("comparison", "ours events/s", "baseline events/s", "ours/baseline")]
    rows += [(label, rate(a.rate), rate(b.rate), ratio(a, b)) for label, a, b in lines]
    _print_rows(rows, right={1, 2, 3})


def _print_rows(rows: Sequence[Sequence[str]], right: set[int]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


@dataclass(frozen=True)
class Latencies:
    """Each of `seconds` is one request's (or operation's) latency; `wall` the run's length."""

    what: str
    backend: str
    seconds: tuple[float, ...]
    wall: float = 0.0
    note: str = ""

    def quantile(self, q: float) -> float:
        """The q-quantile (nearest rank), in seconds."""
        ordered = sorted(self.seconds)
        rank = max(1, -(-int(q * 1000) * len(ordered) // 1000))
        return ordered[min(rank, len(ordered)) - 1]

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.wall if self.wall > 0 else float("inf")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def latency_table(rows: Sequence[Latencies]) -> None:
    """Count, p50/p95/p99 in milliseconds, and the rate where the run was timed as a whole."""
    lines = [("backend", "measurement", "n", "p50 ms", "p95 ms", "p99 ms", "per s", "note")]
    lines += [
        (
            r.backend,
            r.what,
            f"{len(r.seconds):,}",
            ms(r.quantile(0.5)),
            ms(r.quantile(0.95)),
            ms(r.quantile(0.99)),
            rate(r.rate) if r.wall > 0 else "",
            r.note,
        )
        for r in rows
    ]
    _print_rows(lines, right={2, 3, 4, 5, 6})


def latency_comparisons(lines: Sequence[tuple[str, str, float, float]]) -> None:
    """(label, unit, ours, baseline): how many times the baseline's figure ours is."""
    rows = [("comparison", "ours", "baseline", "ours/baseline")]
    rows += [
        (label, f"{a:,.2f} {unit}", f"{b:,.2f} {unit}", f"{a / b:.2f}x" if b else "")
        for label, unit, a, b in lines
    ]
    _print_rows(rows, right={1, 2, 3})
