"""deploy/k8s: each overlay renders with the pinned kustomize, every object is valid against its
API schema (Kubernetes' own, or the Strimzi and MongoDB operators' CRDs), and the pieces fit:
probes, non-root pods, Secrets referenced and never committed, topics as the code names them.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest

from shared.bus.kafka import TOPIC_CONFIG, KafkaBus
from shared.cloudevents import dead_letter_topic
from shared.operations.events import CONTRACT as OPERATIONS
from shared.settings import Settings
from tests.deploy.manifests import (
    DEPLOY,
    K8S,
    OVERLAYS,
    Obj,
    containers,
    kubernetes_problems,
    of_kind,
    rendered,
    route_prefixes,
    service_deployments,
    services,
)


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def objs(overlay: str) -> tuple[Obj, ...]:
    return rendered(overlay)


def named(objs: tuple[Obj, ...], kind: str, name: str) -> Obj:
    (obj,) = [o for o in of_kind(objs, kind) if o["metadata"]["name"] == name]
    return obj


def test_every_object_is_valid_against_its_schema(objs: tuple[Obj, ...]) -> None:
    kinds = {o["kind"] for o in objs}
    assert {"Deployment", "Service", "PodDisruptionBudget", "Ingress", "ConfigMap"} <= kinds
    assert {"NetworkPolicy", "Kafka", "KafkaNodePool", "KafkaTopic", "MongoDBCommunity"} <= kinds
    problems = [p for obj in objs for p in kubernetes_problems(obj)]
    assert problems == []


def _set(obj: Obj, path: str, value: object) -> Obj:
    broken = copy.deepcopy(obj)
    *parents, last = path.split("/")
    target: Any = broken
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[last] = value
    return broken


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("Deployment", "spec/template/spec/containers/0/livenessProbes", {}),  # a typo
        ("Deployment", "spec/replicas", "one"),
        ("Service", "spec/ports/0/port", "http"),
        ("PodDisruptionBudget", "spec/maxUnavailable", [1]),
        ("Ingress", "spec/rules/0/http/paths/0/backend/service/port", 80),
        ("NetworkPolicy", "spec/policyTypes", "Ingress"),
        ("Kafka", "spec/kafka/listeners/0/type", "internall"),
        ("Kafka", "spec/kafka/replicas", 3),  # moved to KafkaNodePool in the v1 API
        ("KafkaNodePool", "spec/roles", ["broker", "zookeeper"]),
        ("KafkaTopic", "spec/partitions", "three"),
        ("KafkaTopic", "spec/retention", -1),  # belongs in spec.config
        ("MongoDBCommunity", "spec/type", "Sharded"),
        ("MongoDBCommunity", "spec/users/0/passwordSecretRef", "medoffice-mongo-password"),
        ("MongoDBCommunity", "metadata/name", "Medoffice_Mongo"),
    ],
)
def test_the_validators_refuse_a_broken_object(kind: str, path: str, value: object) -> None:
    obj = of_kind(rendered("dev"), kind)[0]
    assert kubernetes_problems(obj) == []
    assert kubernetes_problems(_set(obj, path, value)) != []


def test_each_service_is_a_non_root_deployment_with_probes_resources_service_and_pdb(
    objs: tuple[Obj, ...],
) -> None:
    deployments = service_deployments(objs)
    assert sorted(d["metadata"]["name"] for d in deployments) == services()
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user
        (container,) = containers(deployment)
        assert container["args"] == ["serve", name]
        assert container["image"].rsplit("/", 1)[-1].startswith("medoffice:")
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["ports"] == [{"name": "http", "containerPort": 8000}]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        service = named(objs, "Service", name)
        assert service["spec"]["selector"].items() <= labels.items()
        pdb = named(objs, "PodDisruptionBudget", name)
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
        # One process per service, rollouts included (one outbox relay, one ledger writer).
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_secrets_are_referenced_never_committed(objs: tuple[Obj, ...]) -> None:
    assert of_kind(objs, "Secret") == []
    for path in DEPLOY.rglob("*.yaml"):
        assert "kind: Secret" not in path.read_text(), path
    refs = set()
    for deployment in of_kind(objs, "Deployment"):
        for container in containers(deployment):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((env["name"], ref["name"], ref["key"]))
    assert {
        ("MEDOFFICE_PHI_KEK", "medoffice-keys", "phi-kek"),
        ("MEDOFFICE_LEDGER_KEY", "medoffice-keys", "ledger-key"),
        # compliance's alone: it signs audit exports and ledger heads (read-only filesystem)
        ("MEDOFFICE_AUDIT_SIGNING_KEY", "medoffice-keys", "audit-signing-key"),
    } <= refs
    # The services read the connection string the MongoDB operator writes for their user.
    (mongo,) = of_kind(objs, "MongoDBCommunity")
    (user,) = mongo["spec"]["users"]
    assert user["passwordSecretRef"]["name"] == "medoffice-mongo-password"
    url = {(n, s, k) for n, s, k in refs if n == "MEDOFFICE_MONGO_URL"}
    assert url == {
        ("MEDOFFICE_MONGO_URL", user["connectionStringSecretName"], "connectionString.standard")
    }


def test_the_settings_accept_the_configuration(overlay: str, objs: tuple[Obj, ...]) -> None:
    config = named(objs, "ConfigMap", "medoffice-config")["data"]
    fields = {f"MEDOFFICE_{name.upper()}" for name in Settings.model_fields}
    assert set(config) - fields == set()
    env = {key.removeprefix("MEDOFFICE_").lower(): value for key, value in config.items()}
    secrets = {"phi_kek": "a" * 43 + "=", "ledger_key": "b" * 43 + "=", "jwt_secret": "x" * 64}
    if overlay == "prod":
        assert config["MEDOFFICE_ENV"] == "production"
        secrets["jwt_jwks"] = "https://issuer.invalid/jwks.json"  # from ConfigMap medoffice-issuer
        secrets["engagement_link_base_url"] = "https://clinic.invalid"  # from medoffice-public
    # Read as the services read their environment, with the Secrets' values standing in.
    settings = Settings.model_validate(env | secrets)
    (kafka,) = of_kind(objs, "Kafka")
    assert settings.kafka_bootstrap == f"{kafka['metadata']['name']}-kafka-bootstrap:9092"
    assert settings.seed_demo is False


def test_topics_are_those_the_code_names_with_replayable_events(
    overlay: str, objs: tuple[Obj, ...]
) -> None:
    partitions = inspect.signature(KafkaBus).parameters["partitions"].default
    assert TOPIC_CONFIG == {"retention.ms": "-1"}  # what the services create missing topics with
    topics = {t["metadata"]["name"]: t for t in of_kind(objs, "KafkaTopic")}
    settings = Settings.model_validate({})
    for context in [*services(), OPERATIONS.context]:  # and what operators did
        events = settings.topic(context)
        assert {events, dead_letter_topic(events)} <= set(topics), context
    heads = settings.ledger_heads_topic()  # the ledger's signed heads: kept forever too
    assert heads in topics
    for name, topic in topics.items():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "medoffice"
        assert topic["spec"]["partitions"] == partitions
        assert topic["spec"]["replicas"] == (3 if overlay == "prod" else 1)
        retention = topic["spec"]["config"]["retention.ms"]
        if name == heads:
            assert retention == -1, name
        elif name.endswith(".events"):
            assert retention == -1, name  # the log is the history
            assert dead_letter_topic(name) in topics
        else:
            assert name.endswith(".dlq"), name
            assert retention > 0, name


def test_kafka_is_kraft_4x_and_mongodb_8(overlay: str, objs: tuple[Obj, ...]) -> None:
    (kafka,) = of_kind(objs, "Kafka")
    assert kafka["spec"]["kafka"]["version"].startswith("4.")
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    (pool,) = of_kind(objs, "KafkaNodePool")
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    (mongo,) = of_kind(objs, "MongoDBCommunity")
    assert mongo["spec"]["version"].startswith("8.")
    replicas = 3 if overlay == "prod" else 1
    assert pool["spec"]["replicas"] == mongo["spec"]["members"] == replicas


def test_the_ingress_sends_every_prefix_to_the_service_that_serves_it(
    objs: tuple[Obj, ...],
) -> None:
    (ingress,) = of_kind(objs, "Ingress")
    routes = {
        path["path"]: path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    expected = {
        f"/{prefix}": {"name": service, "port": {"name": "http"}}
        for service in services()
        for prefix in route_prefixes(service)
    }
    assert routes == expected


def test_network_policies_deny_by_default_and_open_only_the_paths_needed(
    objs: tuple[Obj, ...],
) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(objs, "NetworkPolicy")}
    deny = policies["default-deny-ingress"]
    assert deny["podSelector"] == {}
    assert deny["policyTypes"] == ["Ingress"]
    assert "ingress" not in deny
    service_pods = {"matchLabels": {"app.kubernetes.io/component": "service"}}
    egress = policies["services-egress"]
    assert egress["podSelector"] == service_pods
    ports = sorted(port["port"] for rule in egress["egress"] for port in rule["ports"])
    assert ports == [53, 53, 9092, 27017]
    into = policies["services-from-ingress-controller"]
    assert into["podSelector"] == service_pods
    assert [port["port"] for port in into["ingress"][0]["ports"]] == [8000]
    (kafka,) = of_kind(objs, "Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["networkPolicyPeers"] == [{"podSelector": service_pods}]
    # Every pod the policies name by label carries that label.
    for deployment in service_deployments(objs):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service_pods["matchLabels"].items() <= labels.items()


def test_each_service_waits_for_exactly_the_topics_strimzi_makes(objs: tuple[Obj, ...]) -> None:
    topics = {t["metadata"]["name"] for t in of_kind(objs, "KafkaTopic")}
    (config,) = [
        c
        for c in of_kind(objs, "ConfigMap")
        if c["metadata"]["name"].startswith("medoffice-wait-for-topics-")
    ]
    assert set(config["data"]["WAIT_FOR_TOPICS"].split(",")) == topics
    script = (K8S / "base" / "wait-for-topics.py").read_text()
    assert config["data"]["wait-for-topics.py"] == script
    for deployment in service_deployments(objs):
        pod = deployment["spec"]["template"]["spec"]
        (init,) = pod["initContainers"]
        assert init["image"] == next(containers(deployment))["image"]
        assert init["command"][-1] == "/opt/wait-for-topics/wait-for-topics.py"
        assert init["securityContext"]["readOnlyRootFilesystem"] is True
        mounted = {m["name"] for m in init["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes[mounted.pop()]["configMap"]["name"] == config["metadata"]["name"]


def test_every_medoffice_variable_a_pod_gets_is_a_setting(objs: tuple[Obj, ...]) -> None:
    fields = {f"MEDOFFICE_{name.upper()}" for name in Settings.model_fields}
    for deployment in of_kind(objs, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            names = {env["name"] for env in container.get("env", [])}
            assert {n for n in names if n.startswith("MEDOFFICE_")} - fields == set()
