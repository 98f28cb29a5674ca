"""docker-compose.yml: valid Compose, and the topology README "Deploying" promises.

Validated offline against the Compose specification's JSON schema (deploy/schemas/); what the
schema cannot know (every service present, health-gated start, one published port, the proxy's
routes matching the services' own) is checked below.
"""

from __future__ import annotations

import copy
import re
import subprocess
from typing import Any

import pytest

from shared.settings import Settings
from tests.deploy.manifests import (
    DEPLOY,
    MONITORING,
    ROOT,
    compose_problems,
    load,
    route_prefixes,
    services,
)

COMPOSE = ROOT / "docker-compose.yml"
CADDYFILE = DEPLOY / "compose" / "Caddyfile"


@pytest.fixture
def compose() -> dict[str, Any]:
    return load(COMPOSE)


def test_the_compose_file_is_valid_compose(compose: dict[str, Any]) -> None:
    assert compose_problems(compose) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "scheduling", "depends_on", "kafka", "condition"), "healthy"),
        (("services", "kafka", "helthcheck"), {"test": ["CMD", "true"]}),
        (("services", "mongo", "ports"), "27017:27017"),
        (("services", "scheduling", "cap_drop"), "ALL"),
    ],
)
def test_the_schema_refuses_a_broken_compose_file(
    compose: dict[str, Any], path: tuple[str, ...], value: object
) -> None:
    broken = copy.deepcopy(compose)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert compose_problems(broken) != []


def test_each_service_runs_from_the_one_image_once_kafka_and_mongodb_are_healthy(
    compose: dict[str, Any],
) -> None:
    declared = compose["services"]
    assert services() == [
        "billing",
        "compliance",
        "engagement",
        "finance",
        "scheduling",
        "staffing",
    ]
    for name in services():
        service = declared[name]
        assert service["build"]["dockerfile"] == "Dockerfile"
        assert service["image"] == declared["scheduling"]["image"]
        assert service["command"] == ["serve", name]
        assert service["depends_on"] == {
            "kafka": {"condition": "service_healthy"},
            "mongo": {"condition": "service_healthy"},
        }
        assert "/ready" in " ".join(service["healthcheck"]["test"])
        assert service["user"] == "10001:10001"
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        env = service["environment"]
        assert env["MEDOFFICE_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["MEDOFFICE_MONGO_URL"].startswith("mongodb://mongo:27017/?replicaSet=")
        assert env["MEDOFFICE_SEED_DEMO"] == "false"
    # Anything serving `medoffice` is one of the services, by its own name.
    served = [n for n, s in declared.items() if s.get("command", [None])[0] == "serve"]
    assert sorted(served) == services()


def test_kafka_is_a_pinned_4x_kraft_node_and_mongodb_a_pinned_8_replica_set(
    compose: dict[str, Any],
) -> None:
    kafka, mongo = compose["services"]["kafka"], compose["services"]["mongo"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"])
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "healthcheck" in kafka
    assert re.fullmatch(r"mongo:8\.\d+\.\d+", mongo["image"])
    assert "--replSet" in mongo["command"]
    replica_set = mongo["command"][mongo["command"].index("--replSet") + 1]
    check = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in check
    assert f"_id: '{replica_set}'" in check
    assert "isWritablePrimary" in check  # healthy once it can take writes, not just once up
    url = compose["services"]["scheduling"]["environment"]["MEDOFFICE_MONGO_URL"]
    assert url.endswith(f"replicaSet={replica_set}")


def test_only_the_proxy_is_reachable_from_outside(compose: dict[str, Any]) -> None:
    published = {name for name, s in compose["services"].items() if s.get("ports")}
    assert published == {"proxy"}
    assert all(p.startswith("127.0.0.1:") for p in compose["services"]["proxy"]["ports"])
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("kafka", "mongo"):
        assert compose["services"][name]["networks"] == ["backend"]
    proxy = compose["services"]["proxy"]
    assert re.fullmatch(r"caddy:\d+\.\d+\.\d+-alpine", proxy["image"])
    assert proxy["depends_on"] == {n: {"condition": "service_healthy"} for n in services()}


def caddy_routes(text: str) -> dict[str, str]:
    """Each `handle[_path] <matcher>` of the Caddyfile -> the upstream of its reverse_proxy."""
    routes = {}
    for matcher, body in re.findall(r"handle(?:_path)?\s+(\S+)\s*\{(.*?)\n\t\}", text, re.S):
        upstream = re.search(r"reverse_proxy\s+(\S+)", body)
        if upstream:
            routes[matcher] = upstream.group(1)
    return routes


def proxy_problems(text: str, compose: dict[str, Any]) -> list[str]:
    """Where the proxy's routes miss a service's prefix (or Prometheus's or Grafana's) or name
    no compose service."""
    routes = caddy_routes(text)
    problems = []
    for name, port in MONITORING.items():
        upstream = routes.pop(f"/{name}/*", None)
        if upstream != f"{name}:{port}" or name not in compose["services"]:
            problems.append(f"/{name}/ goes to {upstream}, not {name}:{port}")
    for service in services():
        for prefix in sorted(route_prefixes(service)) + [f"ops/{service}"]:
            # A FHIR type's path also takes its searches (`/fhir/R4/Practitioner?name=`).
            matcher = f"/{prefix}*" if prefix.startswith("fhir/") else f"/{prefix}/*"
            upstream = routes.pop(matcher, None)
            if upstream != f"{service}:8000":
                problems.append(f"/{prefix}/ goes to {upstream}, not {service}:8000")
    for matcher, upstream in routes.items():
        problems.append(f"{matcher} goes to {upstream}, which serves none of it")
    return problems


def test_the_proxy_sends_every_prefix_to_the_service_that_serves_it(
    compose: dict[str, Any],
) -> None:
    assert route_prefixes("scheduling") >= {"scheduling", "fhir"}
    assert proxy_problems(CADDYFILE.read_text(), compose) == []


def test_the_route_check_refuses_a_misrouted_proxy(compose: dict[str, Any]) -> None:
    text = CADDYFILE.read_text()
    misrouted = text.replace(
        "handle /fhir/* {\n\t\treverse_proxy scheduling:8000",
        "handle /fhir/* {\n\t\treverse_proxy compliance:8000",
    )
    assert misrouted != text
    assert proxy_problems(misrouted, compose) == [
        "/fhir/ goes to compliance:8000, not scheduling:8000"
    ]


def test_secrets_come_from_an_env_file_git_ignores(compose: dict[str, Any]) -> None:
    (env_file,) = compose["services"]["scheduling"]["env_file"]
    assert env_file["required"] is True
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", env_file["path"]], cwd=ROOT, check=False, timeout=30
    )
    assert ignored.returncode == 0, f"{env_file['path']} is not git-ignored"
    assert not (ROOT / "docker-compose.yml").read_text().count("MEDOFFICE_PHI_KEK")


def test_make_secrets_writes_keys_the_settings_accept_and_never_overwrites(tmp_path: Any) -> None:
    out = tmp_path / "secrets.env"
    script = str(DEPLOY / "compose" / "make-secrets.sh")
    subprocess.run([script, str(out)], check=True, capture_output=True, timeout=30)
    values = dict(
        line.split("=", 1) for line in out.read_text().splitlines() if not line.startswith("#")
    )
    assert set(values) == {
        "MEDOFFICE_JWT_SECRET",
        "MEDOFFICE_PHI_KEK",
        "MEDOFFICE_LEDGER_KEY",
        "MEDOFFICE_AUDIT_SIGNING_KEY",
    }
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # The keys pass the same checks production applies (32-byte keys, no development secret).
    settings = Settings.model_validate(
        {key.removeprefix("MEDOFFICE_").lower(): value for key, value in values.items()}
        | {
            "env": "production",
            "jwt_jwks": "https://issuer.invalid/jwks.json",
            "engagement_link_base_url": "https://clinic.invalid",
        }
    )
    assert settings.phi_kek == values["MEDOFFICE_PHI_KEK"]
    assert settings.audit_signing_key == values["MEDOFFICE_AUDIT_SIGNING_KEY"]
    before = out.read_text()
    again = subprocess.run([script, str(out)], capture_output=True, timeout=30, check=False)
    assert again.returncode == 1
    assert out.read_text() == before


def test_every_medoffice_variable_set_anywhere_is_a_setting(compose: dict[str, Any]) -> None:
    fields = {f"MEDOFFICE_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"\bMEDOFFICE_[A-Z_]+\b", (ROOT / "Dockerfile").read_text()))
    for service in compose["services"].values():
        named |= {k for k in service.get("environment", {}) if k.startswith("MEDOFFICE_")}
    secrets = (DEPLOY / "compose" / "make-secrets.sh").read_text()
    named |= set(re.findall(r"\b(MEDOFFICE_[A-Z_]+)=", secrets))
    assert named - fields == set()
    assert {"MEDOFFICE_PHI_KEK", "MEDOFFICE_LEDGER_KEY", "MEDOFFICE_HOST"} <= named
