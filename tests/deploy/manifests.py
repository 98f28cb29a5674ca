"""What the deploy tests share: the repo's deployable services, YAML loading, and validators.

A validator returns the problems it finds (empty: valid), so that each test can show the same
validator refusing a broken object.
"""

from __future__ import annotations

import copy
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, cast

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "prod")
# Kubernetes versions the manifests must be valid for: an old supported one and the newest the
# validator knows.
KUBERNETES_VERSIONS = ("1.32.0", "1.37.0")
# Custom resources, checked against their operators' CRDs kept in deploy/k8s/schemas/.
CRDS = {
    ("kafka.strimzi.io", "Kafka"): "strimzi-kafka.crd.yaml",
    ("kafka.strimzi.io", "KafkaNodePool"): "strimzi-kafkanodepool.crd.yaml",
    ("kafka.strimzi.io", "KafkaTopic"): "strimzi-kafkatopic.crd.yaml",
    ("mongodbcommunity.mongodb.com", "MongoDBCommunity"): "mongodbcommunity.crd.yaml",
}

Obj = dict[str, Any]


def services() -> list[str]:
    """The services `medoffice serve <service>` runs: every package under services/ with an app."""
    return sorted(p.parent.name for p in (ROOT / "services").glob("*/app.py"))


# Prometheus and Grafana (deploy/monitoring/), by their Compose and Kubernetes service names, and
# the port each listens on (their images' defaults).
MONITORING = {"prometheus": 9090, "grafana": 3000}


# The service behind `/fhir` as a whole (its metadata, and every resource type no other
# service claims); another service's FHIR types are routed to it by their own paths.
FHIR_DEFAULT = "scheduling"


def route_prefixes(service: str) -> set[str]:
    """The path prefixes a proxy sends to the service: the first path segments of its routers
    (`APIRouter(prefix="/staffing")` -> staffing) and, for FHIR, `fhir` for the default FHIR
    service and `fhir/R4/<Type>` for each type another service serves (`capability("Type"`)."""
    found: set[str] = set()
    for source in (ROOT / "services" / service).rglob("*.py"):
        text = source.read_text()
        found.update(re.findall(r"""prefix\s*=\s*["']/([^/"']+)""", text))
        if re.search(r"\bFhirRouter\(", text):  # shared.http.fhir: prefix /fhir/R4
            found.add("fhir")
    if "fhir" in found and service != FHIR_DEFAULT:
        found.discard("fhir")
        for source in (ROOT / "services" / service).rglob("*.py"):
            types = re.findall(r"""\bcapability\(\s*["'](\w+)["']""", source.read_text())
            found.update(f"fhir/R4/{t}" for t in types)
    return found


def load_all(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def load(path: Path) -> Obj:
    return cast(Obj, yaml.safe_load(path.read_text()))


def errors(validator: jsonschema.protocols.Validator, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    ]


# ------------------------------------------------------------------------------------ compose


@cache
def compose_validator() -> jsonschema.protocols.Validator:
    schema = cast(Obj, yaml.safe_load((DEPLOY / "schemas" / "compose-spec.json").read_text()))
    return jsonschema.Draft7Validator(schema)


def compose_problems(compose: Obj) -> list[str]:
    """Where the compose file breaks the Compose specification's JSON schema."""
    return errors(compose_validator(), compose)


# --------------------------------------------------------------------------------- kubernetes


def kustomize() -> Path:
    """The pinned kustomize, built from its Go module into var/tools by deploy/kustomize.sh."""
    out = subprocess.run(
        [str(DEPLOY / "kustomize.sh")], check=True, capture_output=True, text=True, timeout=900
    )
    return Path(out.stdout.strip())


@cache
def rendered(overlay: str) -> tuple[Obj, ...]:
    out = subprocess.run(
        [str(kustomize()), "build", str(K8S / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc is not None)


def _strict(schema: Any) -> Any:
    """The schema refusing unknown fields, as the API server's strict field validation does
    (`kubectl apply` asks for it), except where the CRD keeps unknown fields on purpose."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


@cache
def crd_validator(group: str, kind: str, version: str) -> jsonschema.protocols.Validator:
    crd = load(K8S / "schemas" / CRDS[(group, kind)])
    assert crd["spec"]["group"] == group
    assert crd["spec"]["names"]["kind"] == kind
    for served in crd["spec"]["versions"]:
        if served["name"] == version and served["served"]:
            schema = copy.deepcopy(served["schema"]["openAPIV3Schema"])
            # OpenAPI 3.0 schemas are JSON Schema draft 4 in what matters here.
            return jsonschema.Draft4Validator(_strict(schema))
    raise LookupError(f"the {kind} CRD serves no version {version}")


def kubernetes_problems(obj: Obj) -> list[str]:
    """Where a Kubernetes object breaks its API schema: built-in kinds against the Kubernetes
    OpenAPI schemas (kubernetes-validate, strict), custom resources against their CRDs."""
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    kind = str(obj.get("kind", ""))
    name = f"{kind} {obj.get('metadata', {}).get('name')}"
    if (group, kind) in CRDS:
        problems = errors(crd_validator(group, kind, version), obj)
        problems += _metadata_problems(obj)
        return [f"{name}: {p}" for p in problems]
    problems = []
    for k8s in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, k8s, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(map(str, exc.path)) or "(top)"
            problems.append(f"{name} (Kubernetes {k8s}): {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{name} (Kubernetes {k8s}): no schema: {exc}")
    return problems


def _metadata_problems(obj: Obj) -> list[str]:
    """A CRD's schema leaves metadata to the API server: check the name and labels like it."""
    metadata = obj.get("metadata", {})
    name = str(metadata.get("name", ""))
    problems = []
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name):
        problems.append(f"metadata/name: {name!r} is not a DNS subdomain name")
    for key, value in metadata.get("labels", {}).items():
        if not isinstance(value, str):
            problems.append(f"metadata/labels/{key}: {value!r} is not a string")
    return problems


def containers(obj: Obj) -> Iterator[Obj]:
    yield from obj["spec"]["template"]["spec"]["containers"]


def of_kind(objs: tuple[Obj, ...], kind: str) -> list[Obj]:
    return [obj for obj in objs if obj["kind"] == kind]


def service_deployments(objs: tuple[Obj, ...]) -> list[Obj]:
    """The Deployments of medoffice's own services (service-defaults.yaml's patch target), not
    Prometheus's or Grafana's."""
    return [
        obj
        for obj in of_kind(objs, "Deployment")
        if obj["metadata"]["labels"].get("app.kubernetes.io/component") == "service"
    ]
