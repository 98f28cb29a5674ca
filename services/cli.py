"""The `medoffice` command: serve the suite, mint development tokens, verify audit exports."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Annotated, NoReturn

import structlog
import typer
import uvicorn
from pydantic import ValidationError
from starlette.types import ASGIApp

from services.cli_deadletters import dlq
from services.cli_events import events
from services.cli_projections import operations
from shared.clock import SystemClock
from shared.http.identity import OPERATOR, ROLES, mint_operator_token, mint_token
from shared.http.keep_alive import SERVER_KEEP_ALIVE
from shared.observability import configure
from shared.settings import Settings
from shared.tenancy import PLATFORM

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="medoffice back office suite")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = f"MEDOFFICE_{str(error['loc'][0]).upper()} " if error["loc"] else ""
        typer.echo(f"medoffice: bad settings: {name}{error['msg']}", err=True)
        raise typer.Exit(2) from exc


def _settle_heap() -> None:
    """Keep what the process built to start (modules, schemas, the app and its services) out of
    the garbage collector's walks from now on: it lives as long as the process. Every full
    collection walked it; a projection catching up allocates per event and so trips them
    (about 6 % of a replay with the suite's heap: docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()


def served(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """How uvicorn serves an app: our logging, no access log, and an idle connection kept for
    `SERVER_KEEP_ALIVE` seconds, longer than our clients keep one (shared/http/keep_alive.py)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=SERVER_KEEP_ALIVE,
    )


async def _serve(settings: Settings) -> None:
    from services.demo import seed_demo
    from services.suite import build_suite
    from shared.timers import Timer

    suite = await build_suite(settings)
    # Timers start once the demo is seeded: after a crash mid-seed, the no-show timer would
    # otherwise mark a past visit the seeding booked but has not checked in yet.
    held = [(s, w) for s in suite.services for w in s.workers if isinstance(w, Timer)]
    if settings.seed_demo:
        for service, timer in held:
            service.workers.remove(timer)
    _settle_heap()
    await suite.start()
    try:
        if settings.seed_demo:
            await seed_demo(suite.app, settings)
            for service, timer in held:
                service.workers.append(timer)
                await timer.start()
        await uvicorn.Server(served(suite.app, settings.host, settings.port)).serve()
    finally:
        await suite.stop()


async def _serve_apart(settings: Settings, plan: list[tuple[str, int]]) -> None:
    """Each named service with its own backends and HTTP app on its own port; no demo."""
    from services.suite import Suite, build_service

    suites: list[Suite] = []
    try:
        for name, _ in plan:
            suites.append(await build_service(name, settings))
        _settle_heap()
        for suite in suites:
            await suite.start()
        servers = [
            uvicorn.Server(served(suite.app, settings.host, port))
            for suite, (_, port) in zip(suites, plan, strict=True)
        ]
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        # One server ending (a signal, a port taken) ends them all.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)
    finally:
        for suite in reversed(suites):
            await suite.stop()


def ports_for(settings: Settings, names: list[str]) -> list[tuple[str, int]]:
    """(service, port) for each service named; refused (exit 2) when a name is unknown or
    repeated, or two would listen on one port."""
    from services.suite import SERVICES

    for name in names:
        if name not in SERVICES:
            _refuse(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
        if names.count(name) > 1:
            _refuse(f"service {name!r} is named twice")
    plan = [(name, getattr(settings, f"{name}_port", None) or settings.port) for name in names]
    for i, (name, port) in enumerate(plan):
        for other, other_port in plan[i + 1 :]:
            if port == other_port:
                _refuse(
                    f"{name} and {other} would both listen on port {port}: give each its own "
                    f"MEDOFFICE_{name.upper()}_PORT / MEDOFFICE_{other.upper()}_PORT"
                )
    return plan


@cli.command()
def serve(
    services: Annotated[
        list[str] | None,
        typer.Argument(
            help="run only these services (e.g. scheduling compliance), each on its own port "
            "(MEDOFFICE_<SERVICE>_PORT, else MEDOFFICE_PORT); none: every service, one port",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run every service in this process on the configured backends, or only the named ones,
    each apart (its own backends, HTTP app and port)."""
    settings = _settings()
    plan = ports_for(settings, services) if services else None
    configure(settings.log_level, settings.log_json)
    backend = "Kafka + MongoDB" if settings.scale_out else f"SQLite in {settings.data_dir}"
    log = structlog.get_logger(__name__)
    if plan is None:
        # A log event like every other line on stderr, so that JSON logs stay JSON throughout.
        log.info(
            "medoffice_serving", url=f"http://{settings.host}:{settings.port}", backend=backend
        )
        asyncio.run(_serve(settings))
        return
    for name, port in plan:
        log.info(
            "medoffice_serving", service=name, url=f"http://{settings.host}:{port}", backend=backend
        )
    asyncio.run(_serve_apart(settings, plan))


def _refuse(message: str) -> NoReturn:
    typer.echo(f"medoffice: {message}", err=True)
    raise typer.Exit(2)


@cli.command()
def token(
    tenant: Annotated[str | None, typer.Option(help="tenant id, e.g. demo")] = None,
    role: Annotated[list[str] | None, typer.Option(help="one or more roles")] = None,
    site: Annotated[list[str] | None, typer.Option(help="sites (default: all)")] = None,
    operator: Annotated[
        bool, typer.Option("--operator", help="a platform operator's token, for /ops only")
    ] = False,
    subject: Annotated[str, typer.Option(help="who the token is for")] = "dev-user",
) -> None:
    """Print a development bearer token: a tenant member's, or with --operator a platform
    operator's (no tenant, no roles inside tenants)."""
    if operator:
        if tenant is not None or role or site:
            _refuse("an operator token names no tenant, role or site")
        settings = _settings()
        typer.echo(
            mint_operator_token(
                settings.jwt_secret,
                issuer=settings.jwt_issuer,
                subject=subject,
                now=SystemClock().now(),
            )
        )
        return
    if tenant is None or not role:
        _refuse("name a --tenant and at least one --role, or ask for an --operator token")
    if OPERATOR in role:
        _refuse("'operator' is not a role inside a tenant; use --operator")
    if tenant == PLATFORM and role != ["auditor"]:
        _refuse(f"the tenant {PLATFORM!r} holds what operators did: its tokens are auditors' only")
    unknown = [r for r in role if r not in ROLES]
    if unknown:
        _refuse(f"unknown role {unknown[0]!r}; one of {', '.join(ROLES)}")
    settings = _settings()
    typer.echo(
        mint_token(
            settings.jwt_secret,
            issuer=settings.jwt_issuer,
            subject=subject,
            tenant=tenant,
            roles=role,
            sites=site,
            now=SystemClock().now(),
        )
    )


cli.add_typer(operations)  # lag, projections list|rebuild|cancel: a running suite's, over HTTP

audit = typer.Typer(no_args_is_help=True, help="audit exports: check a package offline")
cli.add_typer(audit, name="audit")
cli.add_typer(dlq, name="dlq")
cli.add_typer(events, name="events")


@audit.command("verify")
def audit_verify(
    package: Annotated[Path, typer.Argument(help="the zip GET /compliance/audit-exports gave")],
    public_key: Annotated[
        str | None,
        typer.Option(
            help="the signer's public key (base64, as GET /compliance/audit-exports/public-key "
            "gives it, or PEM), or a file holding it; without it, the key the package names "
            "is used and only printed",
        ),
    ] = None,
) -> None:
    """Check an audit export with no server: its signature, its files' digests, its blocks
    linked as sealed and its events as chained. Prints OK, or the first bad record (file,
    line, why) and exits 1; 2 when the package or key cannot be read."""
    from services.compliance.app import NotAPackage, decode_public_key, unpack, verify_package

    key: bytes | None = None
    if public_key is not None:
        given = Path(public_key)
        try:
            text = given.read_text() if given.is_file() else public_key
            key = decode_public_key(text)
        except (OSError, ValueError) as exc:
            _refuse(f"bad --public-key: {exc}")
    try:
        files = unpack(package.read_bytes())
    except OSError as exc:
        _refuse(f"cannot read {package}: {exc.strerror or exc}")
    except NotAPackage as exc:
        _refuse(f"{package} is not an audit package: {exc}")
    finding = verify_package(files, key)
    typer.echo(finding.line())
    if not finding.ok:
        raise typer.Exit(1)
    if key is None:
        typer.echo(
            "note: no --public-key given: compare the signer's key above with the one "
            "GET /compliance/audit-exports/public-key publishes",
            err=True,
        )


@audit.command("public-key")
def audit_public_key() -> None:
    """Print the public key that signs audit exports and anchored heads (base64, then its
    fingerprint), from the key the settings hold or the key file they name, for auditors to
    pin."""
    import base64

    from services.compliance.app import (
        SigningKeyUnusable,
        fingerprint,
        key_file,
        load_signing_key,
        public_key_bytes,
        signing_key_for,
    )

    try:
        settings = _settings()
        if settings.audit_signing_key is not None:
            raw = public_key_bytes(signing_key_for(settings))
        else:  # the configured or default file; never made here
            raw = public_key_bytes(load_signing_key(key_file(settings)))
    except SigningKeyUnusable as exc:
        _refuse(str(exc))
    typer.echo(base64.b64encode(raw).decode())
    typer.echo(f"fingerprint {fingerprint(raw)}", err=True)


def main() -> None:
    cli()
