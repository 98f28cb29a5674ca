"""Prometheus and Grafana as docker-compose.yml and deploy/k8s run them: each container's files
are laid out under a temporary directory exactly as its mounts place them (Compose's bind mounts,
Kubernetes' ConfigMap volumes), and checked there: promtool `check config` on the config file the
container is started with (so it must find the rule file where the container will), every
service a scrape target reachable on the network, Grafana's provisioning naming the dashboard
that is mounted and the data source the dashboard asks for."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from tests.deploy.manifests import (
    DEPLOY,
    MONITORING,
    OVERLAYS,
    ROOT,
    Obj,
    containers,
    load,
    of_kind,
    rendered,
    service_deployments,
    services,
)
from tests.promtool import ALERTS, DASHBOARD, check

COMPOSE = ROOT / "docker-compose.yml"
GRAFANA_PROVISIONING = Path("/etc/grafana/provisioning")  # the image's GF_PATHS_PROVISIONING
SERVICE_PORT = 8000  # every medoffice container's (Dockerfile: MEDOFFICE_PORT, EXPOSE)


@pytest.fixture
def compose() -> Obj:
    return load(COMPOSE)


@pytest.fixture(params=OVERLAYS)
def objs(request: pytest.FixtureRequest) -> tuple[Obj, ...]:
    return rendered(str(request.param))


# ------------------------------------------------------------------- the containers' files


def compose_files(service: Obj, root: Path) -> Path:
    """The files a Compose service's bind mounts put in its container, laid out under root."""
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if not source.startswith("./"):
            continue  # a named volume: data, not configuration
        src, dst = ROOT / source, root / target.lstrip("/")
        assert src.exists(), f"{source} (mounted at {target}) does not exist"
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    return root


def kubernetes_files(objs: tuple[Obj, ...], deployment: Obj, root: Path) -> Path:
    """The files a Deployment's ConfigMap volumes put in its container, laid out under root."""
    pod = deployment["spec"]["template"]["spec"]
    (container,) = containers(deployment)
    volumes = {v["name"]: v for v in pod["volumes"]}
    maps = {c["metadata"]["name"]: c for c in of_kind(objs, "ConfigMap")}
    for mount in container.get("volumeMounts", []):
        config = volumes[mount["name"]].get("configMap")
        if config is None:
            continue
        directory = root / mount["mountPath"].lstrip("/")
        directory.mkdir(parents=True, exist_ok=True)
        for key, value in maps[config["name"]]["data"].items():
            (directory / key).write_text(value)
    return root


def flag(args: list[str], name: str) -> str:
    (value,) = [a.split("=", 1)[1] for a in args if a.startswith(f"{name}=")]
    return value


def named(objs: tuple[Obj, ...], kind: str, name: str) -> Obj:
    (obj,) = [o for o in of_kind(objs, kind) if o["metadata"]["name"] == name]
    return obj


# ------------------------------------------------------------------------------ Prometheus


def prometheus_problems(files: Path, args: list[str]) -> list[str]:
    """Where Prometheus, started with `args` on these files, would fail: its config refused by
    promtool (a rule file missing included), or its rule files other than alerts.yaml."""
    config = files / flag(args, "--config.file").lstrip("/")
    if not config.is_file():
        return [f"no config file at {flag(args, '--config.file')}"]
    result = check("check", "config", str(config))
    if result.returncode != 0:
        return [f"promtool check config: {result.stdout}{result.stderr}"]
    rules = [config.parent / r for r in cast(Obj, yaml.safe_load(config.read_text()))["rule_files"]]
    if [r.read_text() for r in rules] != [ALERTS.read_text()]:
        return [f"the rule files {rules} are not alerts.yaml"]
    return []


def scrape_targets(files: Path, args: list[str]) -> set[str]:
    """The medoffice job's targets in the config the container is started with."""
    config = cast(
        Obj, yaml.safe_load((files / flag(args, "--config.file").lstrip("/")).read_text())
    )
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "medoffice"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert job.get("scheme", "http") == "http"
    return {target for static in job["static_configs"] for target in static["targets"]}


def expected_targets() -> set[str]:
    return {f"{service}:{SERVICE_PORT}" for service in services()}


def promtool_release() -> str:
    """The Prometheus release of deploy/promtool.sh's Go module version (v0.316.0: v3.16.0)."""
    found = re.search(r"^VERSION=v0\.(\d)(\d\d)\.(\d+)", (DEPLOY / "promtool.sh").read_text(), re.M)
    assert found, "deploy/promtool.sh names no VERSION"
    major, minor, patch = found.groups()
    return f"v{major}.{int(minor)}.{patch}"


def test_prometheus_runs_the_release_promtool_checks_it_with(
    compose: Obj, objs: tuple[Obj, ...]
) -> None:
    image = f"prom/prometheus:{promtool_release()}"
    assert compose["services"]["prometheus"]["image"] == image
    (container,) = containers(named(objs, "Deployment", "prometheus"))
    assert container["image"] == image
    grafana = compose["services"]["grafana"]["image"]
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", grafana)
    (container,) = containers(named(objs, "Deployment", "grafana"))
    assert container["image"] == grafana


def test_prometheus_in_compose_loads_its_config_and_the_alert_rules(
    compose: Obj, tmp_path: Path
) -> None:
    prometheus = compose["services"]["prometheus"]
    files = compose_files(prometheus, tmp_path)
    assert prometheus_problems(files, prometheus["command"]) == []


def test_prometheus_in_kubernetes_loads_its_config_and_the_alert_rules(
    objs: tuple[Obj, ...], tmp_path: Path
) -> None:
    deployment = named(objs, "Deployment", "prometheus")
    files = kubernetes_files(objs, deployment, tmp_path)
    (container,) = containers(deployment)
    assert prometheus_problems(files, container["args"]) == []


def test_a_rule_file_mounted_elsewhere_is_caught(compose: Obj, tmp_path: Path) -> None:
    prometheus = copy.deepcopy(compose["services"]["prometheus"])
    prometheus["volumes"] = [
        v.replace(":/etc/prometheus/alerts.yaml", ":/etc/alerts.yaml")
        for v in prometheus["volumes"]
    ]
    files = compose_files(prometheus, tmp_path)
    (problem,) = prometheus_problems(files, prometheus["command"])
    assert "alerts.yaml" in problem
    assert "does not point to an existing file" in problem


def test_another_rule_file_than_the_alerts_is_caught(compose: Obj, tmp_path: Path) -> None:
    prometheus = compose["services"]["prometheus"]
    files = compose_files(prometheus, tmp_path)
    (files / "etc/prometheus/alerts.yaml").write_text("groups: []\n")
    (problem,) = prometheus_problems(files, prometheus["command"])
    assert "not alerts.yaml" in problem


def test_compose_prometheus_scrapes_every_service_on_a_network_they_share(
    compose: Obj, tmp_path: Path
) -> None:
    declared = compose["services"]
    prometheus = declared["prometheus"]
    targets = scrape_targets(compose_files(prometheus, tmp_path), prometheus["command"])
    assert targets == expected_targets()
    for target in targets:
        host, port = target.split(":")
        service = declared[host]
        assert service["command"] == ["serve", host]
        assert f"127.0.0.1:{port}/" in " ".join(service["healthcheck"]["test"])
        assert set(service["networks"]) & set(prometheus["networks"]), host


def test_kubernetes_prometheus_scrapes_every_service_through_the_network_policies(
    objs: tuple[Obj, ...], tmp_path: Path
) -> None:
    deployment = named(objs, "Deployment", "prometheus")
    (container,) = containers(deployment)
    targets = scrape_targets(kubernetes_files(objs, deployment, tmp_path), container["args"])
    assert targets == expected_targets()
    prometheus_pods = deployment["spec"]["template"]["metadata"]["labels"]
    for target in targets:
        host, port = target.split(":")
        pods = named(objs, "Deployment", host)["spec"]["template"]
        assert pod_port(objs, host, int(port)) == SERVICE_PORT, target
        assert reachable(objs, prometheus_pods, pods["metadata"]["labels"], SERVICE_PORT), target


def test_a_service_missing_from_the_scrape_targets_is_caught(compose: Obj, tmp_path: Path) -> None:
    prometheus = compose["services"]["prometheus"]
    files = compose_files(prometheus, tmp_path)
    config = files / "etc/prometheus/prometheus.yml"
    config.write_text(config.read_text().replace("- billing:8000\n", ""))
    assert "billing:8000" in expected_targets() - scrape_targets(files, prometheus["command"])


def pod_port(objs: tuple[Obj, ...], service: str, port: int) -> int | None:
    """The container port a Service's `port` reaches on the pods of the Deployment of that name."""
    spec = named(objs, "Service", service)["spec"]
    deployment = named(objs, "Deployment", service)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    if not spec["selector"].items() <= labels.items():
        return None
    (target,) = [p["targetPort"] for p in spec["ports"] if p["port"] == port] or [None]
    if isinstance(target, int):
        return target
    ports = {p["name"]: p["containerPort"] for c in containers(deployment) for p in c["ports"]}
    return ports.get(str(target))


def _selects(selector: Obj, labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, selector  # the only form these policies use
    return bool(selector.get("matchLabels", {}).items() <= labels.items())


def _allows(rules: list[Obj], peer_key: str, peer: dict[str, str], port: int) -> bool:
    """Some rule lets `peer` (a pod of this namespace) through on TCP `port`."""
    for rule in rules:
        peers = rule.get(peer_key)
        ports = rule.get("ports")
        peer_ok = peers is None or any(
            "namespaceSelector" not in p and _selects(p.get("podSelector", {}), peer) for p in peers
        )
        port_ok = ports is None or any(
            p.get("protocol", "TCP") == "TCP" and p["port"] == port for p in ports
        )
        if peer_ok and port_ok:
            return True
    return False


def reachable(
    objs: tuple[Obj, ...], source: dict[str, str], destination: dict[str, str], port: int
) -> bool:
    """Whether the NetworkPolicies let a pod labelled `source` open TCP `port` on a pod labelled
    `destination` (both in the namespace): out, if no egress policy selects the source or one
    of those selecting it allows it; in, likewise with the ingress policies of the destination."""
    policies = [p["spec"] for p in of_kind(objs, "NetworkPolicy")]

    def direction(kind: str, selected: dict[str, str], peer_key: str, peer: dict[str, str]) -> bool:
        applying = [
            p for p in policies if kind in p["policyTypes"] and _selects(p["podSelector"], selected)
        ]
        rules = [r for p in applying for r in p.get(kind.lower(), [])]
        return not applying or _allows(rules, peer_key, peer, port)

    return direction("Egress", source, "to", destination) and direction(
        "Ingress", destination, "from", source
    )


def test_the_policy_check_refuses_a_pod_no_policy_admits(objs: tuple[Obj, ...]) -> None:
    prometheus = named(objs, "Deployment", "prometheus")["spec"]["template"]["metadata"]["labels"]
    grafana = named(objs, "Deployment", "grafana")["spec"]["template"]["metadata"]["labels"]
    service = service_deployments(objs)[0]["spec"]["template"]["metadata"]["labels"]
    assert reachable(objs, prometheus, service, SERVICE_PORT)
    assert not reachable(objs, grafana, service, SERVICE_PORT)  # Grafana asks Prometheus only
    assert not reachable(objs, prometheus, service, 27017)
    assert not reachable(objs, service, prometheus, MONITORING["prometheus"])


# --------------------------------------------------------------------------------- Grafana


def datasources(files: Path) -> list[Obj]:
    found = sorted((files / GRAFANA_PROVISIONING.relative_to("/") / "datasources").glob("*.yaml"))
    return [d for path in found for d in cast(Obj, yaml.safe_load(path.read_text()))["datasources"]]


def dashboard_paths(files: Path) -> list[Path]:
    """The dashboards Grafana's file providers would load from these files."""
    providers = sorted(
        (files / GRAFANA_PROVISIONING.relative_to("/") / "dashboards").glob("*.yaml")
    )
    paths = []
    for path in providers:
        for provider in cast(Obj, yaml.safe_load(path.read_text()))["providers"]:
            assert provider["type"] == "file"
            directory = files / provider["options"]["path"].lstrip("/")
            paths += sorted(directory.glob("*.json"))
    return paths


def datasource_problems(dashboard: Obj, sources: list[Obj]) -> list[str]:
    """Where a panel of the dashboard asks for a data source that the provisioning does not
    give it: a uid no provisioned source has, or a `${variable}` that is not a data source
    variable of a provisioned type with a default source."""
    uids = {s["uid"] for s in sources}
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    defaults = {s["type"] for s in sources if s.get("isDefault")}
    refs = [p.get("datasource") for p in dashboard["panels"]]
    refs += [t.get("datasource") for p in dashboard["panels"] for t in p.get("targets", [])]
    problems = []
    for ref in refs:
        uid = str((ref or {}).get("uid", ""))
        variable = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", uid)
        if variable:
            name = variable.group(1) or variable.group(2)
            chosen = variables.get(name, {})
            if chosen.get("type") != "datasource" or chosen.get("query") not in defaults:
                problems.append(f"${{{name}}} picks no provisioned default data source")
        elif uid not in uids:
            problems.append(f"data source {uid!r} is not provisioned")
    return problems


def grafana_problems(files: Path, prometheus_address: str) -> list[str]:
    """Where Grafana, on these files, would not show the operations dashboard over Prometheus."""
    problems = []
    (source,) = datasources(files)
    if (source["type"], source["url"]) != ("prometheus", f"http://{prometheus_address}"):
        problems.append(f"the data source is {source['type']} at {source['url']}")
    dashboards = dashboard_paths(files)
    if [p.read_text() for p in dashboards] != [DASHBOARD.read_text()]:
        problems.append(f"the dashboards loaded are {dashboards}, not {DASHBOARD.name}")
    for path in dashboards:
        problems += datasource_problems(json.loads(path.read_text()), [source])
    return problems


def test_compose_grafana_shows_the_dashboard_over_prometheus(compose: Obj, tmp_path: Path) -> None:
    declared = compose["services"]
    grafana = declared["grafana"]
    assert "GF_PATHS_PROVISIONING" not in grafana.get("environment", {})
    assert set(grafana["networks"]) & set(declared["prometheus"]["networks"])
    address = f"prometheus:{MONITORING['prometheus']}"
    assert grafana_problems(compose_files(grafana, tmp_path), address) == []
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (tmp_path / home.lstrip("/")).read_text() == DASHBOARD.read_text()


def test_kubernetes_grafana_shows_the_dashboard_over_prometheus(
    objs: tuple[Obj, ...], tmp_path: Path
) -> None:
    deployment = named(objs, "Deployment", "grafana")
    (container,) = containers(deployment)
    env = {e["name"]: e["value"] for e in container["env"]}
    assert "GF_PATHS_PROVISIONING" not in env
    port = MONITORING["prometheus"]
    assert pod_port(objs, "prometheus", port) == port
    address = f"prometheus:{port}"
    files = kubernetes_files(objs, deployment, tmp_path)
    assert grafana_problems(files, address) == []
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (tmp_path / home.lstrip("/")).read_text() == DASHBOARD.read_text()
    grafana_pods = deployment["spec"]["template"]["metadata"]["labels"]
    prometheus = named(objs, "Deployment", "prometheus")["spec"]["template"]["metadata"]
    assert reachable(objs, grafana_pods, prometheus["labels"], port)


def test_grafana_has_the_same_settings_in_compose_and_kubernetes(
    compose: Obj, objs: tuple[Obj, ...]
) -> None:
    (container,) = containers(named(objs, "Deployment", "grafana"))
    kubernetes = {e["name"]: e["value"] for e in container["env"]}
    settings = dict(compose["services"]["grafana"]["environment"])
    # Compose serves it at /grafana/ behind the proxy; Kubernetes at the root of a port-forward.
    assert settings.pop("GF_SERVER_ROOT_URL").endswith("/grafana/")
    assert settings == kubernetes
    assert settings["GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION"] == "true"
    assert settings["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_a_dashboard_asking_for_another_data_source_is_caught(compose: Obj, tmp_path: Path) -> None:
    files = compose_files(compose["services"]["grafana"], tmp_path)
    (source,) = datasources(files)
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    assert datasource_problems(dashboard, [source]) == []
    dashboard["panels"][0]["datasource"] = {"type": "prometheus", "uid": "elsewhere"}
    assert datasource_problems(dashboard, [source]) == [
        "data source 'elsewhere' is not provisioned"
    ]
    dashboard["templating"]["list"][0]["query"] = "loki"
    assert "${datasource} picks no provisioned default data source" in datasource_problems(
        dashboard, [source]
    )


def test_a_dashboard_mounted_where_no_provider_looks_is_caught(
    compose: Obj, tmp_path: Path
) -> None:
    grafana = copy.deepcopy(compose["services"]["grafana"])
    grafana["volumes"] = [
        v.replace(":/etc/grafana/dashboards/", ":/var/lib/grafana/dashboards/")
        for v in grafana["volumes"]
    ]
    files = compose_files(grafana, tmp_path)
    assert grafana_problems(files, f"prometheus:{MONITORING['prometheus']}") == [
        f"the dashboards loaded are [], not {DASHBOARD.name}"
    ]


# ------------------------------------------------------------- how they run, and where


def test_compose_keeps_them_on_an_internal_network_behind_the_proxy(compose: Obj) -> None:
    declared = compose["services"]
    assert compose["networks"]["monitoring"]["internal"] is True
    for name in MONITORING:
        service = declared[name]
        assert service["networks"] == ["monitoring"], name
        assert "ports" not in service, name
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert re.search(r"/-/ready|/api/health", " ".join(service["healthcheck"]["test"])), name
        assert "monitoring" in declared["proxy"]["networks"]
    for service in services():
        assert "monitoring" in declared[service]["networks"], service
    assert "monitoring" not in declared["kafka"].get("networks", [])
    assert "monitoring" not in declared["mongo"].get("networks", [])
    # Behind the proxy's prefix, each is told its external URL (links and redirects carry it).
    port = "${MEDOFFICE_HTTP_PORT:-8080}"
    prometheus = declared["prometheus"]["command"]
    assert flag(prometheus, "--web.external-url") == f"http://127.0.0.1:{port}/prometheus/"
    root = declared["grafana"]["environment"]["GF_SERVER_ROOT_URL"]
    assert root == f"http://127.0.0.1:{port}/grafana/"


def test_kubernetes_runs_them_non_root_read_only_with_probes_and_resources(
    objs: tuple[Obj, ...],
) -> None:
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objs}
    for name, port in MONITORING.items():
        assert {("Deployment", name), ("Service", name)} <= kinds
        deployment = named(objs, "Deployment", name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        # Not a medoffice service: service-defaults.yaml's patch is not theirs.
        assert labels["app.kubernetes.io/component"] == "monitoring"
        assert deployment["spec"]["replicas"] == 1
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        (container,) = containers(deployment)
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["ports"] == [{"name": "web", "containerPort": port}]
        for probe in ("livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["port"] == "web", (name, probe)
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        assert pod_port(objs, name, port) == port
    # Prometheus keeps its data across restarts, one writer at a time.
    prometheus = named(objs, "Deployment", "prometheus")
    assert prometheus["spec"]["strategy"] == {"type": "Recreate"}
    (data,) = [v for v in prometheus["spec"]["template"]["spec"]["volumes"] if v["name"] == "data"]
    claim = named(objs, "PersistentVolumeClaim", data["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
