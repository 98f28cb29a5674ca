"""`medoffice dlq`: a running suite's dead letters, over HTTP with an operator token.

`list` (per context, every page), `show ID`, `replay ID` or `replay --all --context C`,
`discard ID --reason R`. Exit codes are `services.operator_client`'s: 0 done, 2 refused,
3 unreachable.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from services.operator_client import (
    AsJson,
    OperatorClient,
    OperatorError,
    OperatorToken,
    SuiteUrl,
    fail,
    print_json,
)

dlq = typer.Typer(no_args_is_help=True, help="dead letters: list, show, replay, discard")

Context = Annotated[
    str | None, typer.Option("--context", help="one context (scheduling, billing, ...)")
]


def _call(url: str, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
    try:
        with OperatorClient(url, token) as client:
            return client.request(method, path, **kwargs)
    except OperatorError as exc:
        fail(str(exc), exc.exit_code)


def _line(letter: dict[str, Any]) -> str:
    reason = letter["reason"]
    return (
        f"{letter['id']}  {letter['group']}  {letter['type'] or '-'}  {letter['stream'] or '-'}"
        f"  {reason['error_type']}: {reason['message']}"
    )


@dlq.command("list")
def list_letters(
    url: SuiteUrl = "http://127.0.0.1:8000",
    token: OperatorToken = None,
    context: Context = None,
    as_json: AsJson = False,
) -> None:
    """Dead letters not yet replayed or discarded, oldest first."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"context": context, "cursor": cursor, "limit": 500}
        query = {k: v for k, v in params.items() if v is not None}
        page = _call(url, token, "GET", "/ops/dead-letters", params=query)
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    if as_json:
        print_json(found)
        return
    for letter in found:
        typer.echo(_line(letter))
    typer.echo(f"{len(found)} dead letter(s)", err=True)


@dlq.command("show")
def show(
    letter_id: Annotated[str, typer.Argument(help="the dead letter's id")],
    url: SuiteUrl = "http://127.0.0.1:8000",
    token: OperatorToken = None,
    as_json: AsJson = False,
) -> None:
    """One dead letter: its reason, CloudEvent attributes and data (PHI sealed), history."""
    letter = _call(url, token, "GET", f"/ops/dead-letters/{letter_id}")
    if as_json:
        print_json(letter)
        return
    typer.echo(_line(letter))
    typer.echo(f"state: {letter['state']}")
    for name, value in sorted(letter["attributes"].items()):
        typer.echo(f"  {name}: {value}")
    for done in letter["history"]:
        typer.echo(f"  {done['at']} {done['type']} by {done['operator']}")


@dlq.command("replay")
def replay(
    letter_id: Annotated[str | None, typer.Argument(help="the dead letter's id")] = None,
    every: Annotated[bool, typer.Option("--all", help="every dead letter of --context")] = False,
    context: Context = None,
    url: SuiteUrl = "http://127.0.0.1:8000",
    token: OperatorToken = None,
    as_json: AsJson = False,
) -> None:
    """Send a dead letter's record (or all of a context's) again to its original topic."""
    if every == (letter_id is not None):
        fail("name one dead letter, or --all with --context")
    if every:
        if context is None:
            fail("--all needs --context")
        done = _call(url, token, "POST", "/ops/dead-letters/replay", body={"context": context})
        if as_json:
            print_json(done)
        else:
            typer.echo(f"replayed {len(done['replayed'])} dead letter(s) of {context}")
        return
    letter = _call(url, token, "POST", f"/ops/dead-letters/{letter_id}/replay")
    if as_json:
        print_json(letter)
    else:
        typer.echo(f"replayed {letter['id']} to {letter['topic']}")


@dlq.command("discard")
def discard(
    letter_id: Annotated[str, typer.Argument(help="the dead letter's id")],
    reason: Annotated[str, typer.Option("--reason", help="why it is set aside (recorded)")],
    url: SuiteUrl = "http://127.0.0.1:8000",
    token: OperatorToken = None,
    as_json: AsJson = False,
) -> None:
    """Set a dead letter aside for good; the reason and who did it are recorded."""
    letter = _call(
        url, token, "POST", f"/ops/dead-letters/{letter_id}/discard", body={"reason": reason}
    )
    if as_json:
        print_json(letter)
    else:
        typer.echo(f"discarded {letter['id']}")
