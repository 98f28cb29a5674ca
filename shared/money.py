"""Money as people read it: integer cents (how the suite keeps every amount) shown as dollars."""

from __future__ import annotations


def dollars(cents: int) -> str:
    """`123456` as "$1,234.56", `-5` as "-$0.05": exact, whatever the size (never a float)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"
