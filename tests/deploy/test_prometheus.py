"""deploy/monitoring: the alert rules pass `promtool check rules`, and every
query of the dashboard parses as PromQL (checked as recording rules by the same promtool).
Which metrics they name is checked against a live exposition in tests/api/test_metrics.py, how
they are deployed in tests/deploy/test_monitoring.py."""

from __future__ import annotations

from pathlib import Path

from tests.promtool import (
    ALERTS,
    alert_queries,
    as_rules,
    check,
    dashboard_queries,
    metrics_named,
)


def test_the_alert_rules_pass_promtool_and_watch_what_operations_must_know() -> None:
    result = check("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    watched = {name for query in alert_queries() for name in metrics_named(query)}
    assert {
        "medoffice_consumer_lag",
        "medoffice_dead_letters_total",
        "medoffice_outbox_backlog",
        "medoffice_audit_ledger_unverified_tenants",
        "medoffice_audit_ledger_last_check_timestamp_seconds",
    } <= watched


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    rules = tmp_path / "dashboard.rules.yaml"
    rules.write_text(as_rules(dashboard_queries()))
    result = check("check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_query_that_does_not_parse_is_caught(tmp_path: Path) -> None:
    rules = tmp_path / "broken.rules.yaml"
    rules.write_text(as_rules(["sum by (route) (rate(medoffice_http_requests_total[5m])"]))
    assert check("check", "rules", str(rules)).returncode != 0
