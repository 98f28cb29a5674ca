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
