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


def test_an_operator_token_names_no_tenant_sites_or_other_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MEDOFFICE_JWT_SECRET", raising=False)
    result = runner.invoke(cli, ["token", "--operator", "--subject", "ops-alice"])

    assert result.exit_code == 0, result.output
    claims = jwt.decode(
        result.stdout.strip(), DEVELOPMENT_JWT_SECRET, algorithms=["HS256"], issuer="medoffice"
    )
    assert claims["roles"] == ["operator"]
    assert claims["sub"] == "ops-alice"
    assert "tenant" not in claims
    assert "sites" not in claims
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operator", "--tenant", "demo"], "an operator token names no tenant, role or site"),
        (["--operator", "--role", "admin"], "an operator token names no tenant, role or site"),
        (["--tenant", "demo", "--role", "operator"], "'operator' is not a role inside a tenant"),
        (["--tenant", "demo"], "name a --tenant and at least one --role"),
        (["--role", "admin"], "name a --tenant and at least one --role"),
        (["--tenant", "platform", "--role", "admin"], "its tokens are auditors' only"),
    ],
)
def test_operator_and_tenant_tokens_are_not_mixed(args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["token", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_production_refuses_the_development_secret_for_operators_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDOFFICE_ENV", "production")
    monkeypatch.delenv("MEDOFFICE_JWT_SECRET", raising=False)
    result = runner.invoke(cli, ["token", "--operator"])
    assert result.exit_code == 2
    assert "MEDOFFICE_JWT_SECRET must be set in production" in result.output


@pytest.mark.parametrize("setting", ["MEDOFFICE_LEDGER_KEY", "MEDOFFICE_PHI_KEK"])
def test_a_key_setting_that_is_not_32_bytes_of_base64_is_named_at_start(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv(setting, "c2hvcnQ=")
    result = runner.invoke(cli, ["token", "--tenant", "demo", "--role", "admin"])
    assert result.exit_code == 2
    assert f"bad settings: {setting} Value error, must be 32 bytes, base64" in result.output
    assert "Traceback" not in result.output
