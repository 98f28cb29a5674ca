"""Dates at the calendar's edges (years 0001 and 9999), sent to every route that takes a date
or a date-time, get a 4xx problem+json naming the field and write nothing; never a 500.

The routes and their fields come from the OpenAPI document, so a new route is covered when it
is added. Each field is sent once with a sane value first (the control), which must not be
refused for that field: a refusal of the hostile value is then the value's doing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from services.suite import Suite
from tests.api.conftest import booking, post_ok, register
from tests.api.staffing_helpers import record_licence, scheduling_knows

PROBLEM = "application/problem+json"

HOSTILE = {
    "date": ["0001-01-01", "9999-12-31"],
    "date-time": [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ],
}
SANE = {"date": "2026-12-01", "date-time": "2026-12-01T10:00:00-05:00"}

# What an id names, by the parameter's or field's name: things the `world` below has made.
KNOWN_IDS = {
    "patient_id": "pat-1",
    "provider_id": "dr-a",
    "site_id": "north",
    "room_id": "exam-1",
    "visit_type_id": "follow-up",
    "stream": "acme:site:north",  # a stream as of a time (each service's)
}


@dataclass(frozen=True)
class Target:
    """One date or date-time input of one route: in its path, its query or its body."""

    method: str
    path: str
    where: str  # "path", "query" or "body"
    field: tuple[str, ...]  # the name, or the path of names inside the body
    format: str  # "date" or "date-time"

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{'.'.join(self.field)}"


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def not_null(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without its `null` alternative (an optional field's)."""
    schema = resolve(doc, schema)
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return resolve(doc, option)
    return schema


def date_format(doc: dict[str, Any], schema: dict[str, Any]) -> str | None:
    fmt = not_null(doc, schema).get("format")
    return fmt if fmt in HOSTILE else None


def body_fields(
    doc: dict[str, Any], schema: dict[str, Any]
) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every date or date-time inside a body schema, as a path of property names."""
    schema = not_null(doc, schema)
    if schema.get("type") == "array":
        for field, fmt in body_fields(doc, schema["items"]):
            yield ("0", *field), fmt
        return
    for name, prop in schema.get("properties", {}).items():
        own = date_format(doc, prop)
        if own is not None:
            yield (name,), own
        else:
            for field, fmt in body_fields(doc, prop):
                yield (name, *field), fmt


def targets(doc: dict[str, Any]) -> list[Target]:
    """Every date or date-time input of every route outside FHIR (FHIR has its own tests)."""
    found = []
    for path, operations in doc["paths"].items():
        if path.startswith("/fhir"):
            continue
        for method, op in operations.items():
            for param in op.get("parameters", []):
                fmt = date_format(doc, param["schema"])
                if fmt is not None:
                    found.append(Target(method, path, param["in"], (param["name"],), fmt))
            content = op.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                for field, fmt in body_fields(doc, schema):
                    found.append(Target(method, path, "body", field, fmt))
    return found


def example(doc: dict[str, Any], schema: dict[str, Any], name: str, ids: dict[str, str]) -> Any:
    """A valid value for a schema: the known id for an id, the sane date for a date."""
    schema = not_null(doc, schema)
    if name in ids:
        return ids[name]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            key: example(doc, prop, key, ids)
            for key, prop in schema.get("properties", {}).items()
            if key in schema.get("required", [])
        }
    if kind == "array":
        if name.endswith("_ids") and name[:-1] in ids:
            return [ids[name[:-1]]]
        return [example(doc, schema["items"], name, ids)] * max(schema.get("minItems", 1), 1)
    if kind == "integer":
        return schema.get("default", schema.get("minimum", 1))
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt in SANE:
        return SANE[fmt]
    if fmt == "time":
        return "09:00"
    if schema.get("pattern") == r"^[A-Za-z0-9_-]+$":
        return "x1"
    return "x" * max(schema.get("minLength", 1), 5)


def request_for(
    doc: dict[str, Any], target: Target, value: str, ids: dict[str, str]
) -> tuple[str, dict[str, Any], Any]:
    """The route's URL, query and body: valid everywhere but in the target, which is `value`."""
    op = doc["paths"][target.path][target.method]
    path, query = target.path, {}
    for param in op.get("parameters", []):
        name = param["name"]
        if (param["in"], (name,)) == (target.where, target.field):
            given: Any = value
        elif param.get("required") or date_format(doc, param["schema"]) is None and name in ids:
            given = example(doc, param["schema"], name, ids)
        else:
            continue
        if param["in"] == "path":
            path = path.replace("{" + name + "}", str(given))
        elif param["in"] == "query":
            query[name] = given
    body = None
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = content["application/json"]["schema"]
        body = example(doc, schema, "", ids)
        if target.where == "body":
            place(doc, schema, body, target.field, value)
    return path, query, body


def place(
    doc: dict[str, Any], schema: dict[str, Any], body: Any, field: tuple[str, ...], value: str
) -> None:
    """Put `value` at `field` inside `body`, making the optional objects on the way."""
    schema = not_null(doc, schema)
    head, rest = field[0], field[1:]
    inner = schema["items"] if isinstance(body, list) else schema["properties"][head]
    slot: int | str = int(head) if isinstance(body, list) else head
    if not rest:
        body[slot] = value
        return
    if isinstance(body, dict) and head not in body:
        body[head] = example(doc, inner, head, {})
    place(doc, inner, body[slot], rest, value)


def names_field(problem: dict[str, Any], target: Target) -> bool:
    """Whether a problem refuses the target's field: one of its errors is located there."""
    wanted = [target.where, *target.field]
    return any(
        [str(part) for part in error.get("loc", [])][: len(wanted)] == wanted
        for error in problem.get("errors", [])
    )


async def events_written(suite: Suite) -> int:
    store = suite.service("scheduling").event_store
    assert store is not None
    return sum(len(c.events) for c in await store.read_all(0, 100_000))


async def world(client: httpx.AsyncClient, clinic: dict[str, str]) -> dict[str, str]:
    """A registered patient with a booked appointment at the clinic: what ids name."""
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    return {**KNOWN_IDS, "appointment_id": booked["id"]}


async def test_every_date_input_refuses_the_calendars_edges_with_a_4xx_naming_it(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, operator: dict[str, str]
) -> None:
    ids = await world(client, clinic)
    doc = (await client.get("/openapi.json")).json()
    found = targets(doc)
    # The walk must find what is known to be there, or it proves nothing.
    expected = {
        "post /scheduling/appointments body:start",
        "post /scheduling/appointment-series body:first_start",
        "post /scheduling/appointments/{appointment_id}/reschedule body:start",
        "get /scheduling/open-slots query:start",
        "get /scheduling/sites/{site_id}/board/{day} path:day",
        "get /scheduling/providers/{provider_id}/schedule/{day} path:day",
        "get /scheduling/sites/{site_id}/triage-queue query:date",
        "post /scheduling/sites/{site_id}/waitlist body:latest",
        "post /scheduling/patients body:birth_date",
    }
    assert expected <= {str(t) for t in found}, sorted(str(t) for t in found)

    failures = []
    # A 500 is an answer to record here, not an exception to stop at.
    transport = httpx.ASGITransport(app=suite.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url=client.base_url, headers=client.headers
    ) as hostile:
        for target in found:
            # /ops admits platform operators only: anyone else is refused before the body.
            headers = operator if target.path.startswith("/ops/") else None
            failures += await refusals_missing(hostile, suite, doc, target, ids, headers)
    assert not failures, "\n".join(failures)


async def refusals_missing(
    client: httpx.AsyncClient,
    suite: Suite,
    doc: dict[str, Any],
    target: Target,
    ids: dict[str, str],
    headers: dict[str, str] | None = None,
) -> list[str]:
    """What is wrong with the answers to the target's hostile values (nothing: [])."""
    path, query, body = request_for(doc, target, SANE[target.format], ids)
    control = await client.request(target.method, path, params=query, json=body, headers=headers)
    if control.status_code == 422 and names_field(control.json(), target):
        return [f"{target}: the sane value is refused: {control.text}"]
    failures = []
    for value in HOSTILE[target.format]:
        path, query, body = request_for(doc, target, value, ids)
        before = await events_written(suite)
        response = await client.request(
            target.method, path, params=query, json=body, headers=headers
        )
        problem = response.json() if response.headers.get("content-type") == PROBLEM else {}
        if not (400 <= response.status_code < 500 and names_field(problem, target)):
            failures.append(f"{target} = {value}: {response.status_code} {response.text}")
        elif await events_written(suite) != before:
            failures.append(f"{target} = {value}: refused, but it wrote events")
    return failures


def test_the_walk_finds_dates_nested_in_bodies_and_arrays() -> None:
    doc: dict[str, Any] = {
        "paths": {
            "/x": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Outer"}}
                        }
                    }
                }
            },
            "/fhir/R4/Slot": {
                "get": {
                    "parameters": [{"name": "start", "in": "query", "schema": {"format": "date"}}]
                }
            },
        },
        "components": {
            "schemas": {
                "Outer": {
                    "type": "object",
                    "properties": {
                        "when": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Inner"}},
                    },
                },
                "Inner": {
                    "type": "object",
                    "properties": {"at": {"type": "string", "format": "date-time"}},
                },
            }
        },
    }

    found = [str(t) for t in targets(doc)]

    assert found == ["post /x body:when", "post /x body:items.0.at"]


async def test_a_series_running_past_the_calendars_end_is_a_422_and_writes_nothing(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    """Each start is in the calendar as sent, the second occurrence is not: the decider says
    so before it computes with it."""
    await register(client, "pat-1")
    licence = await record_licence(
        client, "dr-a", "licence-2199", issued_on="2199-01-01", expires_on="2199-12-31"
    )
    await scheduling_knows(client, "dr-a", [licence])
    before = await events_written(suite)

    response = await client.post(
        "/scheduling/appointment-series",
        json={
            "patient_id": "pat-1",
            **clinic,
            "first_start": "2199-12-30T09:00:00-05:00",  # a Monday; the next is in 2200
            "count": 2,
        },
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "start must lie between 1800-01-01 and 2199-12-31"
    assert await events_written(suite) == before
