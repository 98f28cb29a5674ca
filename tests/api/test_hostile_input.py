"""Every route, fed what a careless or hostile client sends, answers 4xx, never a 500.

The routes come from the suite's own OpenAPI document, so a new route is covered the day it
is added. For each operation: hostile path parameters (too long, traversal, NUL, operators of
a query language, a right-to-left override, numbers that overflow), hostile query values, and
for a body: not JSON, the wrong JSON type, and a body built from the operation's schema with
each field at an edge that still has the right type (a huge integer, a float beyond double
range as text, a string of control characters, a date that does not exist), which gets past
validation into the use cases and the stores. The caller holds every tenant role, so access
rules let the input through to be judged; `/ops` is called as an operator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from services.suite import Suite
from shared.http.identity import ROLES
from tests.api.conftest import TokenFor

PATH_VALUES = (
    "a" * 400,
    "../../etc/passwd",
    "x%00y",
    '{"$ne":null}',
    "\u202eevil",
    "99999999999999999999999",
    "-1",
    "2026-02-30",
    " ",
)
QUERY_VALUES = (
    "",
    "a" * 3000,
    "-99999999999999999999",
    "2026-13-45",
    "9999-12-31",
    '{"$gt":""}',
    "\x01\x02",
)
NESTED = b'{"a":' * 50 + b"1" + b"}" * 50
BODIES: tuple[bytes, ...] = (b"{", b"[]", b'"text"', b"null", b"{}", NESTED)
MAX_INT = 2**70  # beyond what BSON's int64 and SQLite's INTEGER hold


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _edge(spec: dict[str, Any], schema: dict[str, Any], variant: int, depth: int = 0) -> Any:
    """A value of the schema's type at an edge (`variant` picks which edge)."""
    schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(spec, o).get("type") != "null"]
            if options:
                return _edge(spec, options[variant % len(options)], variant, depth)
            return None
    if "enum" in schema:
        return schema["enum"][variant % len(schema["enum"])]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {
            name: _edge(spec, sub, variant + i, depth + 1)
            for i, (name, sub) in enumerate(schema.get("properties", {}).items())
        }
    if kind == "array":
        if depth > 4 or "items" not in schema:
            return []
        count = 1 if variant % 2 else 3
        return [_edge(spec, schema["items"], variant + i, depth + 1) for i in range(count)]
    if kind == "integer":
        return (MAX_INT, -MAX_INT, 0)[variant % 3]
    if kind == "number":
        return (1e308, -1e308, 0.1)[variant % 3]
    if kind == "boolean":
        return bool(variant % 2)
    fmt = schema.get("format", "")
    if fmt == "date":
        return ("0001-01-01", "9999-12-31", "2028-02-29")[variant % 3]
    if fmt == "date-time":
        return ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00")[variant % 2]
    strings = (
        "\x00\x01\x1b[31m",
        "a" * 100_000,
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u202e\u200b",
        "$where",
        "../x",
        " ",
    )
    return strings[variant % len(strings)]


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in sorted(spec["paths"].items()):
        for method, operation in sorted(item.items()):
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def _params(operation: dict[str, Any], where: str) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p.get("in") == where]


def _fill(path: str, operation: dict[str, Any], value: str) -> str:
    for parameter in _params(operation, "path"):
        path = path.replace("{" + parameter["name"] + "}", quote(value, safe=""))
    return path


def _body_schema(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _resolve(spec, content["application/json"].get("schema", {}))


def _valid_path(path: str, operation: dict[str, Any]) -> str:
    return _fill(path, operation, "hostile-1")


async def _send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], **kw: Any
) -> httpx.Response:
    try:
        return await client.request(method, url, headers=headers, **kw)
    except Exception as error:  # an exception escaping the app is what a 500 would be
        raise AssertionError(f"{method.upper()} {url[:200]} raised {error!r}") from error


def _judge(response: httpx.Response, method: str, url: str, failures: list[str]) -> None:
    if response.status_code >= 500:
        failures.append(f"{method.upper()} {url[:160]} -> {response.status_code}")
    elif response.status_code >= 400:
        kind = response.headers.get("content-type", "")
        if "json" not in kind:
            failures.append(f"{method.upper()} {url[:160]} -> {response.status_code} {kind}")


async def test_no_route_answers_hostile_input_with_a_500(
    suite: Suite, token_for: TokenFor, operator: dict[str, str]
) -> None:
    tenant = token_for(*ROLES, sites=None, sub="hostile")
    transport = httpx.ASGITransport(app=suite.app)
    failures: list[str] = []
    async with httpx.AsyncClient(
        transport=transport, base_url="http://medoffice", timeout=60
    ) as client:
        spec = (await client.get("/openapi.json")).json()
        assert len(spec["paths"]) > 100, sorted(spec["paths"])
        for path, method, operation in _operations(spec):
            headers = operator if path.startswith("/ops") else tenant
            for value in PATH_VALUES if _params(operation, "path") else ():
                url = _fill(path, operation, value)
                _judge(await _send(client, method, url, headers), method, url, failures)
            url = _valid_path(path, operation)
            for value in QUERY_VALUES:
                query = {p["name"]: value for p in _params(operation, "query")}
                if query:
                    response = await _send(client, method, url, headers, params=query)
                    _judge(response, method, url + f" ?{sorted(query)}={value[:20]!r}", failures)
            schema = _body_schema(spec, operation)
            if schema is None:
                continue
            sent = {**headers, "content-type": "application/json"}
            for raw in BODIES:
                response = await _send(client, method, url, sent, content=raw)
                _judge(response, method, f"{url} body {raw[:20]!r}", failures)
            for variant in range(6):
                body = json.dumps(_edge(spec, schema, variant), ensure_ascii=False)
                response = await _send(client, method, url, sent, content=body.encode())
                _judge(response, method, f"{url} edge body {variant}", failures)
    assert not failures, f"{len(failures)} answers were not a 4xx problem:\n" + "\n".join(
        sorted(set(failures))[:200]
    )


@pytest.mark.parametrize("variant", range(3))
def test_the_edge_bodies_keep_their_types(variant: int) -> None:
    spec = {
        "components": {
            "schemas": {"In": {"type": "object", "properties": {"n": {"type": "integer"}}}}
        }
    }
    value = _edge(spec, {"$ref": "#/components/schemas/In"}, variant)
    assert isinstance(value["n"], int)
