"""promtool (Prometheus's checker), built once by deploy/promtool.sh, for the tests that check
an exposition, the alert rules and the dashboard's queries."""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ALERTS = ROOT / "deploy" / "monitoring" / "prometheus" / "alerts.yaml"
DASHBOARD = ROOT / "deploy" / "monitoring" / "grafana" / "medoffice-operations.json"
_METRIC = re.compile(r"\bmedoffice_[a-z0-9_]+\b")
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


@cache
def promtool() -> Path:
    """The pinned promtool, built from its Go module into var/tools by deploy/promtool.sh."""
    out = subprocess.run(
        [str(ROOT / "deploy" / "promtool.sh")],
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return Path(out.stdout.strip())


def check(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`promtool <args>`; its exit code and output, for the test to judge."""
    return subprocess.run(
        [str(promtool()), *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def dashboard_queries() -> list[str]:
    """Every PromQL expression of the dashboard's panels."""
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def alert_queries() -> list[str]:
    rules: dict[str, Any] = yaml.safe_load(ALERTS.read_text())
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def as_rules(queries: list[str]) -> str:
    """The queries as recording rules: a file `promtool check rules` parses every one of."""
    rules = [{"record": f"dashboard:query_{n}", "expr": q} for n, q in enumerate(queries)]
    return yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})


def metrics_named(query: str) -> set[str]:
    return set(_METRIC.findall(query))


def families(exposition: str) -> dict[str, str]:
    """The exposition's metric families and their types."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", exposition, flags=re.MULTILINE))


def unexposed(query: str, exposed: dict[str, str]) -> set[str]:
    """The metrics `query` names that the exposition has not (a histogram's series by its
    family's name)."""
    missing = set()
    for name in metrics_named(query):
        family = next((name.removesuffix(s) for s in _HISTOGRAM_SERIES if name.endswith(s)), name)
        if name not in exposed and exposed.get(family) != "histogram":
            missing.add(name)
    return missing
