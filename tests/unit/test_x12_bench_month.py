"""The 837P benchmark's month is valid 837P, and its raw baseline writes the very same bytes
(so the ratio compares like with like). Nothing here is timed."""

from __future__ import annotations

from bench.x12 import month, plain, raw_837
from services.billing.domain.x12.reader837 import read_837
from services.billing.domain.x12.writer837 import write_837
from tests.x12_checks import assert_valid_837


def test_the_benchmark_month_is_valid_and_the_baseline_writes_the_same_bytes() -> None:
    files = month(600)
    assert sum(len(f.claims) for f in files) == 600
    for file in files:
        assert raw_837(plain(file)) == write_837(file)
    largest = max(files, key=lambda f: len(f.claims))
    assert any(c.other_subscribers for f in files for c in f.claims)
    assert any(c.patient is not None for f in files for c in f.claims)
    text = write_837(largest)
    assert_valid_837(text)
    parsed = read_837(text)  # claims come back grouped by billing provider
    assert {c.claim_id: c for c in parsed.claims} == {c.claim_id: c for c in largest.claims}
