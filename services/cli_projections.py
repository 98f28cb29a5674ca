"""`medoffice lag` and `medoffice projections list|rebuild|cancel`: read models and consumers of a
running suite, over HTTP with an operator token (`services/operator_client.py`: --url, --token,
--json, and its exit codes). A rebuild is followed with a progress bar until the switch."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from services.operator_client import (
    DEFAULT_URL,
    EXIT_NO,
    AsJson,
    OperatorClient,
    OperatorError,
    OperatorToken,
    SuiteUrl,
    fail,
    print_json,
)

operations = typer.Typer()  # added to `medoffice` without a name: `lag` is a command of its own
projections = typer.Typer(no_args_is_help=True, help="read models: list them, rebuild one")
operations.add_typer(projections, name="projections")

console = Console()
POLL = 0.5  # seconds between two looks at a rebuild's progress


def _calling(url: str, token: str | None, work: Callable[[OperatorClient], Any]) -> Any:
    """Run `work` with a client of the suite; its refusals become a message and an exit code."""
    try:
        with OperatorClient(url, token) as client:
            return work(client)
    except OperatorError as exc:
        fail(str(exc), exc.exit_code)


def _table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column in ("lag", "generation") else "left")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    return table


@operations.command()
def lag(url: SuiteUrl = DEFAULT_URL, token: OperatorToken = None, json: AsJson = False) -> None:
    """Every projection's and consumer's lag: the events each has not yet processed."""

    def read(client: OperatorClient) -> dict[str, Any]:
        return {
            "projections": client.get("/ops/projections"),
            "consumers": client.get("/ops/consumers"),
        }

    found = _calling(url, token, read)
    if json:
        print_json(found)
        return
    columns = ("name", "lag", "running")
    console.print(_table("Projections", found["projections"], columns))
    console.print(_table("Consumers", found["consumers"], ("name", "service", "lag", "running")))
    behind = sum(p["lag"] for p in found["projections"]) + sum(c["lag"] for c in found["consumers"])
    console.print(f"{behind} events behind in all")


@projections.command("list")
def list_projections(
    url: SuiteUrl = DEFAULT_URL, token: OperatorToken = None, json: AsJson = False
) -> None:
    """Every projection: its live generation, lag, whether it runs and is being rebuilt."""
    found = _calling(url, token, lambda client: client.get("/ops/projections"))
    if json:
        print_json(found)
        return
    console.print(
        _table("Projections", found, ("name", "generation", "lag", "running", "rebuilding"))
    )


@projections.command("cancel")
def cancel(
    rebuild_id: Annotated[str, typer.Argument(metavar="ID", help="the rebuild's id")],
    url: SuiteUrl = DEFAULT_URL,
    token: OperatorToken = None,
    json: AsJson = False,
) -> None:
    """Cancel a running rebuild: its shadow generation is dropped, the live one serves on.
    Exit 1 when it switched before the cancel reached it."""
    job = _calling(url, token, lambda client: client.delete(f"/ops/rebuilds/{rebuild_id}"))
    _report(job, json)
    if job["status"] == "switched":
        raise typer.Exit(EXIT_NO)


@projections.command("rebuild")
def rebuild(
    name: Annotated[str, typer.Argument(help="the projection, e.g. scheduling.directory")],
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="follow it to the switch, or only start it")
    ] = True,
    cancel_on_interrupt: Annotated[
        bool,
        typer.Option("--cancel-on-interrupt", help="on Ctrl-C, cancel the rebuild without asking"),
    ] = False,
    url: SuiteUrl = DEFAULT_URL,
    token: OperatorToken = None,
    json: AsJson = False,
) -> None:
    """Rebuild a read model from the first event into a shadow generation, then switch to it,
    with a progress bar (events done of all, rate, time left). Ctrl-C asks whether to cancel
    it. Exit 0 once switched, 1 when it failed or was cancelled."""

    def follow(client: OperatorClient) -> dict[str, Any]:
        job: dict[str, Any] = client.post(f"/ops/projections/{name}/rebuilds")
        if not wait:
            return job
        if json:
            return _until_ended(client, job, cancel_on_interrupt, lambda _: None)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} events/s"),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(f"{name} g{job['generation']}", total=None, rate="-")

            def show(job: dict[str, Any]) -> None:
                bar.update(
                    task,
                    total=job["events_total"],
                    completed=job["events_done"],
                    rate=job["rate_per_second"],
                )

            return _until_ended(client, job, cancel_on_interrupt, show)

    job = _calling(url, token, follow)
    _report(job, json)
    if wait and job["status"] != "switched":
        raise typer.Exit(EXIT_NO)


class Following(Protocol):
    """What following a rebuild needs of the suite (an `OperatorClient`)."""

    def get(self, path: str, **params: Any) -> Any: ...

    def delete(self, path: str) -> Any: ...


def _until_ended(
    client: Following,
    job: dict[str, Any],
    cancel_on_interrupt: bool,
    show: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Follow the rebuild until it has ended; Ctrl-C cancels it, if so asked or answered."""
    path = f"/ops/rebuilds/{job['id']}"
    while job["status"] == "running":
        show(job)
        try:
            time.sleep(POLL)
            job = client.get(path)
        except KeyboardInterrupt:
            if cancel_on_interrupt or _confirm_cancel():
                job = client.delete(path)
    show(job)
    return job


def _confirm_cancel() -> bool:
    try:
        return typer.confirm("\nCancel the rebuild?", default=False)
    except typer.Abort:  # no terminal to answer from (or Ctrl-C again): follow on
        return False


def _report(job: dict[str, Any], json: bool) -> None:
    if json:
        print_json(job)
        return
    line = f"rebuild {job['id']} of {job['projection']} (generation {job['generation']}): "
    line += str(job["status"])
    if job.get("cancelled_by"):
        line += f", cancel asked by {job['cancelled_by']}"
    if job.get("error"):
        line += f" ({job['error']})"
    typer.echo(line)  # one line, however narrow the terminal: scripts grep it
