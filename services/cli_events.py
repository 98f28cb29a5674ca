"""`medoffice events tail`: a running suite's events as they are published, over HTTP with an
operator token (GET /ops/events/tail), until interrupted or `--count` events were shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from services.operator_client import (
    DEFAULT_URL,
    EXIT_NO,
    AsJson,
    OperatorClient,
    OperatorError,
    OperatorToken,
    SuiteUrl,
    fail,
)

events = typer.Typer(no_args_is_help=True, help="the suite's event streams, live")


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, its JSON data) per Server-Sent Event; comments (heartbeats) are skipped."""
    name, data = "message", ""
    for line in lines:
        if not line:
            if data:
                yield name, json.loads(data)
            name, data = "message", ""
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()


def _line(event: dict[str, Any]) -> str:
    """One event on one line: time, type, tenant, stream@version, correlation, sealed fields."""
    sealed = f" phi={','.join(event['phi'])} (sealed)" if event.get("phi") else ""
    return (
        f"{event['time']} {event['type']} tenant={event.get('tenant')} "
        f"{event.get('stream')}@{event.get('stream_version')} "
        f"correlation={event.get('correlation_id')}{sealed}"
    )


@events.command("tail")
def tail(
    url: SuiteUrl = DEFAULT_URL,
    token: OperatorToken = None,
    tenant: Annotated[str | None, typer.Option(help="only this tenant's events")] = None,
    context: Annotated[str | None, typer.Option(help="only this context's (billing, ...)")] = None,
    type_: Annotated[
        str | None,
        typer.Option("--type", help="only this type: full, or its name (AppointmentBooked)"),
    ] = None,
    stream: Annotated[str | None, typer.Option(help="only this stream's events")] = None,
    correlation_id: Annotated[
        str | None, typer.Option(help="only the events of this correlation id")
    ] = None,
    count: Annotated[int | None, typer.Option(min=1, help="stop after this many events")] = None,
    as_json: AsJson = False,
) -> None:
    """Follow the events published from now on (PHI shown sealed) until interrupted or
    `--count` events. Exit 0 when done or interrupted, 1 when the suite dropped this watcher
    (too slow to keep up), 2 when refused, 3 when the suite cannot be reached."""
    shown = 0
    try:
        with OperatorClient(url, token) as client:
            query = {
                "tenant": tenant,
                "context": context,
                "type": type_,
                "stream": stream,
                "correlation_id": correlation_id,
                "limit": count,
            }
            # Leaving early (--count, an overflow) closes the client, and the connection with it.
            for name, data in sse_events(client.lines("/ops/events/tail", **query)):
                if name == "overflow":
                    fail("the suite dropped this watcher: it did not keep up", EXIT_NO)
                if name != "message":
                    continue
                typer.echo(json.dumps(data, sort_keys=True) if as_json else _line(data))
                shown += 1
                if count is not None and shown >= count:
                    return
    except OperatorError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return
