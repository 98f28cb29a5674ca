"""The operations commands' side of HTTP: a running suite's `/ops`, reached with an operator
token. Every `medoffice` command that talks to a running suite goes through here, so that they
share one way of naming the suite, one way of failing, and exit codes scripts can rely on:

- 0: done;
- 1: the operation ran and its answer is "no" (a rebuild failed or was cancelled, a check found
  a problem);
- 2: refused: bad input or a usage error, or the suite answered 4xx (the message says why);
- 3: the suite could not be reached, or failed (5xx): try again later.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Annotated, Any, NoReturn

import httpx
import typer

from shared.clock import SystemClock
from shared.http.identity import mint_operator_token
from shared.http.keep_alive import client_limits

URL_ENV = "MEDOFFICE_URL"
TOKEN_ENV = "MEDOFFICE_OPERATOR_TOKEN"
DEFAULT_URL = "http://127.0.0.1:8000"

EXIT_NO = 1
EXIT_REFUSED = 2
EXIT_UNREACHABLE = 3

SuiteUrl = Annotated[
    str,
    typer.Option("--url", envvar=URL_ENV, help="the running suite (or the service's own port)"),
]
OperatorToken = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_ENV,
        help="an operator's bearer token; without one, a development token is minted from "
        "this machine's settings (the same MEDOFFICE_JWT_SECRET as the suite's)",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON, for scripts")]


class OperatorError(Exception):
    """Why a command could not do what it was asked, and the exit code that says so."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, exit_code: int = EXIT_REFUSED) -> NoReturn:
    typer.echo(f"medoffice: {message}", err=True)
    raise typer.Exit(exit_code)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def development_token() -> str:
    """An operator token minted from this machine's settings (`make run`'s, by default)."""
    from pydantic import ValidationError

    from shared.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        fail(f"no --token given and the settings cannot mint one: {exc.errors()[0]['msg']}")
    return mint_operator_token(
        settings.jwt_secret,
        issuer=settings.jwt_issuer,
        subject=os.environ.get("USER") or "operator-cli",
        now=SystemClock().now(),
    )


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)
    return str(body)


class OperatorClient:
    """HTTP to one running suite as an operator. Raises `OperatorError` with the exit code."""

    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token or development_token()}"},
            timeout=timeout,
            limits=client_limits(),
        )

    def __enter__(self) -> OperatorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        try:
            response = self._http.request(method, path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise OperatorError(
                f"cannot reach {self._http.base_url}: {type(exc).__name__}", EXIT_UNREACHABLE
            ) from exc
        self._check(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def lines(self, path: str, **params: Any) -> Iterator[str]:
        """A streamed answer's lines as they come (Server-Sent Events, JSON Lines)."""
        query = {k: v for k, v in params.items() if v is not None}
        try:
            with self._http.stream("GET", path, params=query, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    self._check(response)
                yield from response.iter_lines()
        except httpx.HTTPError as exc:
            raise OperatorError(
                f"lost {self._http.base_url}: {type(exc).__name__}", EXIT_UNREACHABLE
            ) from exc

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        code = EXIT_UNREACHABLE if response.status_code >= 500 else EXIT_REFUSED
        raise OperatorError(f"{response.status_code}: {_problem(response)}", code)
