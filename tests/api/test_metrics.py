"""/metrics of the suite after real work: latency by route template (never a path), command
outcomes, the outbox backlog and every consumer group's lag read at scrape, dead letters by
group, the ledger monitor's rounds. The exposition passes `promtool check metrics`, and every
metric the dashboard and the alert rules name is one it has."""

from __future__ import annotations

import re

import httpx
import pytest

from services.suite import Suite
from shared.cloudevents import Message
from shared.settings import Settings
from tests.api.conftest import booking, post_ok, register
from tests.api.test_compliance_alerts import fire
from tests.api.test_services_apart import sample
from tests.promtool import alert_queries, check, dashboard_queries, families, unexposed
from tests.support import wait_until


@pytest.fixture
async def exposition(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, settings: Settings
) -> str:
    """The scrape after a booking, a refused double booking, a patient read by id, a poison
    record on scheduling's topic and a round of the ledger monitor, once every consumer
    group has caught up."""
    await register(client, "pat-1", "pat-2")
    await post_ok(client, "/scheduling/appointments", booking(clinic))
    twice = await client.post("/scheduling/appointments", json=booking(clinic, patient_id="pat-2"))
    assert twice.status_code == 409, twice.text
    await client.get("/scheduling/patients/pat-1")
    poison = Message(topic=settings.topic("scheduling"), key="k", headers={}, value=b"poison")
    await suite.backends.bus.publish([poison])

    async def settled() -> str | None:
        text = (await client.get("/metrics")).text
        dead = sample(text, "medoffice_dead_letters_total", group="compliance.audit-ledger")
        return text if dead >= 1 and await suite.behind() == 0 else None

    await wait_until(settled, message="every group past the poison")
    await fire(suite, "ledger")
    return (await client.get("/metrics")).text


async def test_the_exposition_passes_promtool_and_holds_no_path(exposition: str) -> None:
    result = check("check", "metrics", stdin=exposition)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pat-1" not in exposition
    assert "pat-2" not in exposition
    route = "/scheduling/patients/{patient_id}"
    count = "medoffice_http_request_duration_seconds_count"
    assert sample(exposition, count, method="GET", route=route) == 1
    created = sample(
        exposition, count, method="POST", route="/scheduling/appointments", status_class="2xx"
    )
    assert created == 1
    buckets = [
        float(m)
        for m in re.findall(
            r'medoffice_http_request_duration_seconds_bucket\{method="GET",'
            r'route="/scheduling/patients/\{patient_id\}",status_class="[24]xx",le="[^"]+"\} (\S+)',
            exposition,
        )
    ]
    assert buckets == sorted(buckets)
    assert buckets[-1] == 1


async def test_commands_backlog_lag_dead_letters_and_the_ledger(exposition: str) -> None:
    commands = "medoffice_commands_total"
    booked = {"service": "scheduling", "command": "BookAppointment"}
    assert sample(exposition, commands, outcome="accepted", **booked) == 1
    assert sample(exposition, commands, outcome="rejected", **booked) == 1
    for service in ("scheduling", "staffing", "billing", "compliance"):
        assert f'medoffice_outbox_backlog{{service="{service}"}} 0' in exposition
    lag = 'medoffice_consumer_lag{{group="{}",kind="{}",service="{}"}} 0'
    assert lag.format("projection.scheduling.appointments", "projection", "scheduling") in (
        exposition
    )
    assert lag.format("compliance.audit-ledger", "consumer", "compliance") in exposition
    assert lag.format("reactor.compliance.monitors", "reactor", "compliance") in exposition
    dead = "medoffice_dead_letters_total"
    assert sample(exposition, dead, group="projection.scheduling.appointments") == 1
    assert sample(exposition, dead, group="reactor.compliance.monitors") == 1
    assert sample(exposition, "medoffice_audit_ledger_unverified_tenants") == 0
    verified = "medoffice_audit_ledger_verifications_total"
    assert sample(exposition, verified, outcome="verified") >= 1
    assert sample(exposition, "medoffice_audit_ledger_last_check_timestamp_seconds") > 0


async def test_the_dashboard_and_the_alerts_name_only_metrics_the_suite_exposes(
    exposition: str,
) -> None:
    exposed = families(exposition)
    for query in [*dashboard_queries(), *alert_queries()]:
        assert not unexposed(query, exposed), query
