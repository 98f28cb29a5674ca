"""`medoffice serve <service>...`: which port each service listens on, and clear refusals."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from services.cli import _serve, _serve_apart, cli, ports_for
from shared.settings import Settings
from tests.support import suite_settings

runner = CliRunner()


def test_a_service_alone_listens_on_its_own_port_setting_else_the_common_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDOFFICE_PORT", "9100")
    monkeypatch.delenv("MEDOFFICE_SCHEDULING_PORT", raising=False)
    monkeypatch.delenv("MEDOFFICE_COMPLIANCE_PORT", raising=False)
    assert ports_for(Settings(), ["scheduling"]) == [("scheduling", 9100)]

    monkeypatch.setenv("MEDOFFICE_SCHEDULING_PORT", "9101")
    assert ports_for(Settings(), ["scheduling"]) == [("scheduling", 9101)]
    assert ports_for(Settings(), ["scheduling", "compliance"]) == [
        ("scheduling", 9101),
        ("compliance", 9100),
    ]
    monkeypatch.setenv("MEDOFFICE_COMPLIANCE_PORT", "9102")
    assert ports_for(Settings(), ["compliance", "scheduling"]) == [
        ("compliance", 9102),
        ("scheduling", 9101),
    ]


def test_two_services_on_one_port_are_refused_with_the_settings_to_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDOFFICE_PORT", "9100")
    monkeypatch.delenv("MEDOFFICE_SCHEDULING_PORT", raising=False)
    monkeypatch.delenv("MEDOFFICE_COMPLIANCE_PORT", raising=False)
    result = runner.invoke(cli, ["serve", "scheduling", "compliance"])
    assert result.exit_code == 2
    assert "scheduling and compliance would both listen on port 9100" in result.output
    assert "MEDOFFICE_SCHEDULING_PORT" in result.output
    assert "Traceback" not in result.output

    monkeypatch.setenv("MEDOFFICE_COMPLIANCE_PORT", "9100")
    monkeypatch.setenv("MEDOFFICE_SCHEDULING_PORT", "9100")
    clash = runner.invoke(cli, ["serve", "scheduling", "compliance"])
    assert clash.exit_code == 2
    assert "both listen on port 9100" in clash.output


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["payroll"],
            "unknown service 'payroll'; "
            "one of scheduling, staffing, billing, finance, engagement, compliance",
        ),
        (["scheduling", "scheduling"], "service 'scheduling' is named twice"),
    ],
)
def test_unknown_or_repeated_services_are_refused(names: list[str], message: str) -> None:
    result = runner.invoke(cli, ["serve", *names])
    assert result.exit_code == 2
    assert message in result.output


def test_a_port_setting_out_of_range_is_a_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDOFFICE_SCHEDULING_PORT", "70000")
    result = runner.invoke(cli, ["serve", "scheduling"])
    assert result.exit_code == 2
    assert "bad settings: MEDOFFICE_SCHEDULING_PORT" in result.output


@pytest.mark.parametrize("apart", [False, True])
async def test_the_heap_built_to_start_is_kept_out_of_the_collectors_walks(
    apart: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen_while_serving: list[int] = []

    async def serve(self: uvicorn.Server, sockets: object = None) -> None:
        frozen_while_serving.append(gc.get_freeze_count())

    monkeypatch.setattr(uvicorn.Server, "serve", serve)
    settings = suite_settings(tmp_path)
    try:
        if apart:
            await _serve_apart(settings, [("scheduling", 9100)])
        else:
            await _serve(settings)
    finally:
        gc.unfreeze()  # the rest of the test session collects as before
    assert len(frozen_while_serving) == 1
    assert frozen_while_serving[0] > 10_000  # the modules, the app, its services
