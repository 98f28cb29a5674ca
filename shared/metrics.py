"""Metrics in the Prometheus text exposition format (0.0.4), written by hand.

Why by hand and not `prometheus_client`: half of what a scrape shows is read when scraped, and
read asynchronously (consumer lag from the bus, the outbox backlog from the event store), which
`prometheus_client`'s synchronous collectors cannot await; and each suite (several in one test
process) keeps a registry of its own. What remains is small: counters, gauges set as they
change, and fixed-bucket histograms; `promtool check metrics` checks the result in a test.

Nothing in a sample names a tenant, a patient or a raw path (routes are their templates), so
the exposition holds no PHI and its size does not grow with the data.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]
Family = dict[Labels, float]

# Every family a process exposes, with its type and meaning (docs/operations.md lists them
# with their labels). Each is declared in every scrape, with no samples until it has one, so
# dashboards and alert rules can rely on the names.
FAMILIES: dict[str, tuple[str, str]] = {
    "medoffice_event_store_commits_total": ("counter", "Commits appended to an event store"),
    "medoffice_event_store_events_total": ("counter", "Events appended to an event store"),
    "medoffice_event_store_conflicts_total": (
        "counter",
        "Appends refused: the stream had moved on",
    ),
    "medoffice_bus_published_total": ("counter", "Records published to a topic of events"),
    "medoffice_dead_letters_total": (
        "counter",
        "Records a consumer group sent to a dead-letter topic",
    ),
    "medoffice_http_requests_total": ("counter", "HTTP answers, by method and status"),
    "medoffice_console_streams_opened_total": ("counter", "Live console streams opened"),
    "medoffice_console_streams_closed_total": (
        "counter",
        "Live console streams ended (the page left)",
    ),
    "medoffice_commands_total": (
        "counter",
        "Commands handled, by service, command and outcome "
        "(accepted, unchanged, rejected, conflict)",
    ),
    "medoffice_audit_ledger_verifications_total": (
        "counter",
        "Tenants' audit ledgers verified by the ledger monitor, by outcome",
    ),
    "medoffice_consumer_lag": (
        "gauge",
        "Records a consumer group (projection, reactor, consumer) has not committed",
    ),
    "medoffice_tail_watchers": ("gauge", "Live tails of the event streams open now"),
    "medoffice_outbox_backlog": (
        "gauge",
        "Commits of a service's event store not yet published to the bus",
    ),
    "medoffice_audit_ledger_unverified_tenants": (
        "gauge",
        "Tenants whose audit ledger did not verify in the ledger monitor's last round",
    ),
    "medoffice_audit_ledger_last_check_timestamp_seconds": (
        "gauge",
        "When the ledger monitor last finished a round (Unix time)",
    ),
    "medoffice_http_request_duration_seconds": (
        "histogram",
        "HTTP request latency, by method, route template and status class",
    ),
}

UNMATCHED = "unmatched"  # the route of a request no route took (a 404 for any path)

# Seconds: from a cached read (a few ms) to a large export or a slow backend (10 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return str(int(value)) if value == int(value) else repr(float(value))


def _sample(name: str, labels: Labels, value: float) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return f"{name}{{{inner}}} {_number(value)}" if inner else f"{name} {_number(value)}"


def _key(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


@dataclass
class _Histogram:
    bounds: tuple[float, ...]
    counts: list[int]  # per bucket, not cumulative; one more than bounds (the +Inf bucket)
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value

    def samples(self, name: str, labels: Labels) -> list[str]:
        lines, running = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            lines.append(_sample(f"{name}_bucket", (*labels, ("le", _number(bound))), running))
        lines.append(_sample(f"{name}_sum", labels, self.total))
        lines.append(_sample(f"{name}_count", labels, running))
        return lines


@dataclass
class Metrics:
    """The metrics of one process (or of one service, when each has its own): counters and
    histograms as things happen, gauges set as they change; `render` adds gauges read at
    scrape time."""

    counters: dict[str, Family] = field(default_factory=dict)
    gauges: dict[str, Family] = field(default_factory=dict)
    histograms: dict[str, dict[Labels, _Histogram]] = field(default_factory=dict)

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        series = self.counters.setdefault(name, {})
        key = _key(labels)
        series[key] = series.get(key, 0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        self.gauges.setdefault(name, {})[_key(labels)] = value

    def observe(
        self, name: str, value: float, buckets: tuple[float, ...] = LATENCY_BUCKETS, **labels: str
    ) -> None:
        series = self.histograms.setdefault(name, {})
        key = _key(labels)
        if key not in series:
            series[key] = _Histogram(buckets, [0] * (len(buckets) + 1))
        series[key].observe(value)

    def render(self, read: Mapping[str, Family] | None = None) -> str:
        """The exposition: every declared family (empty until it has a sample), every family
        kept here, and the gauges `read` at scrape time."""
        gauges = {**self.gauges, **(read or {})}
        kinds = {name: kind for name, (kind, _) in FAMILIES.items()}
        samples: dict[str, list[str]] = {}
        for kind, families in (("counter", self.counters), ("gauge", gauges)):
            for name, series in families.items():
                kinds.setdefault(name, kind)
                samples[name] = [_sample(name, k, v) for k, v in sorted(series.items())]
        for name, histograms in self.histograms.items():
            kinds.setdefault(name, "histogram")
            samples[name] = [
                line for k, h in sorted(histograms.items()) for line in h.samples(name, k)
            ]
        lines: list[str] = []
        for name in sorted(kinds):
            meaning = FAMILIES.get(name, ("", name))[1]
            lines += [f"# HELP {name} {meaning}", f"# TYPE {name} {kinds[name]}"]
            lines += samples.get(name, [])
        return "\n".join(lines) + "\n"


def route_of(scope: Mapping[str, Any]) -> str:
    """The template of the route that took the request (`/scheduling/patients/{patient_id}`),
    never the path itself: no ids, no PHI, and one series per route."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return f"{scope.get('root_path', '')}{template}" if isinstance(template, str) else UNMATCHED


Lagging = Callable[[], Awaitable[int]]


async def read_gauges(sources: Mapping[Labels, Lagging]) -> Family:
    """Each source's value, by its labels; one that cannot be read now (a backend down) is
    left out: a scrape never fails for one source."""
    found: Family = {}
    for labels, read in sources.items():
        try:
            found[labels] = await read()
        except Exception:  # noqa: BLE001, S112 - a scrape never fails for one source
            continue
    return found
