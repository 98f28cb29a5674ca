"""The `medoffice` command: development tokens, and clear messages instead of tracebacks."""

from __future__ import annotations

import jwt
import pytest
from typer.testing import CliRunner

from services.cli import cli
from shared.settings import DEVELOPMENT_JWT_SECRET

runner = CliRunner()


def test_token_prints_a_bearer_token_with_tenant_sites_and_roles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MEDOFFICE_JWT_SECRET", raising=False)
    result = runner.invoke(
        cli, ["token", "--tenant", "demo", "--role", "front_desk", "--site", "north"]
    )

    assert result.exit_code == 0, result.output
    claims = jwt.decode(
        result.stdout.strip(), DEVELOPMENT_JWT_SECRET, algorithms=["HS256"], issuer="medoffice"
    )
    assert claims["tenant"] == "demo"
    assert claims["roles"] == ["front_desk"]
    assert claims["sites"] == ["north"]
    assert claims["exp"] > claims["iat"]


def test_an_unknown_role_is_refused_with_a_message() -> None:
    result = runner.invoke(cli, ["token", "--tenant", "demo", "--role", "wizard"])
    assert result.exit_code == 2
    assert "unknown role 'wizard'" in result.output
    assert "Traceback" not in result.output


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDOFFICE_ENV", "production")
    monkeypatch.delenv("MEDOFFICE_JWT_SECRET", raising=False)
    result = runner.invoke(cli, ["token", "--tenant", "demo", "--role", "admin"])
    assert result.exit_code == 2
    assert "MEDOFFICE_JWT_SECRET must be set in production" in result.output
