"""Who is calling: bearer JWTs carrying tenant, sites and roles, or a platform operator.

Tenant tokens name a tenant, its sites and roles inside it. Operator tokens name no tenant and
carry the one role `operator`: they act on the deployment (`/ops/*`) and on nothing inside a
tenant. A token mixing the two (a tenant with `operator`, or `operator` beside another role)
is invalid. Development tokens are HS256 with the configured secret (`medoffice token` mints
either kind).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import jwt
import structlog
from fastapi import Depends, HTTPException, Request
from jwt import PyJWK, PyJWKClient, PyJWKSet
from pydantic import BaseModel, ConfigDict

from shared.settings import Settings
from shared.tenancy import PLATFORM

# `staff`: an employee acting on their own record (staffing); their token's `sub` is their
# employee id. `compliance`: the compliance officer, who manages policies, incidents and alerts
# (auditors read everything and change nothing). `finance`: budgets, payables, payroll and the
# month's reports (services/finance/).
Role = Literal[
    "front_desk",
    "clinician",
    "biller",
    "manager",
    "hr",
    "auditor",
    "admin",
    "staff",
    "compliance",
    "finance",
]
ROLES: tuple[Role, ...] = (
    "front_desk",
    "clinician",
    "biller",
    "manager",
    "hr",
    "auditor",
    "admin",
    "staff",
    "compliance",
    "finance",
)
ALL_SITES = "*"
OPERATOR = "operator"

log = structlog.get_logger(__name__)


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str
    tenant: str
    sites: list[str] | Literal["*"]
    roles: list[Role]

    def at_site(self, site_id: str) -> bool:
        return self.sites == ALL_SITES or site_id in self.sites


class Operator(BaseModel):
    """A platform operator: runs the deployment, belongs to no tenant, reads no tenant's data."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str
    roles: tuple[Literal["operator"]]


Identity = Principal | Operator


def identify(claims: dict[str, Any]) -> Identity:
    """The caller a verified token's claims name; ValueError for a token mixing the kinds."""
    roles = claims.get("roles")
    if isinstance(roles, list) and OPERATOR in roles:
        if roles != [OPERATOR] or "tenant" in claims or "sites" in claims:
            raise ValueError("an operator token names no tenant, no sites and no other role")
        return Operator.model_validate(claims)
    if claims.get("tenant") == PLATFORM and roles != ["auditor"]:
        raise ValueError(f"the tenant {PLATFORM!r} is what operators did: for auditors only")
    return Principal.model_validate(claims)


def mint_token(
    secret: str,
    *,
    issuer: str,
    subject: str,
    tenant: str,
    roles: list[str],
    sites: list[str] | None,
    now: datetime,
    lifetime: timedelta = timedelta(hours=8),
) -> str:
    claims = {
        "iss": issuer,
        "sub": subject,
        "tenant": tenant,
        "roles": roles,
        "sites": sites if sites else ALL_SITES,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def mint_operator_token(
    secret: str,
    *,
    issuer: str,
    subject: str,
    now: datetime,
    lifetime: timedelta = timedelta(hours=1),
) -> str:
    """A platform operator's token: no tenant, no sites, the one role `operator`."""
    claims = {
        "iss": issuer,
        "sub": subject,
        "roles": [OPERATOR],
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


# Verified tokens kept per process, so a client's every request does not pay for the signature
# check again: each for at most VERIFIED_FOR seconds and never past its own `exp` (a key taken
# out of the JWKS stops admitting its tokens within that time).
VERIFIED_TOKENS = 1024
VERIFIED_FOR = 60.0


class TokenVerifier:
    """Checks bearer tokens: RS256 against a JWKS (file or URL), and HS256 with the shared
    secret outside production. A token verified in the last minute is not checked again (its
    expiry is)."""

    def __init__(self, settings: Settings) -> None:
        self._verified: OrderedDict[str, tuple[Identity, float]] = OrderedDict()
        self._lock = threading.Lock()  # verify runs on worker threads when keys are fetched
        self._secret = settings.jwt_secret
        self._issuer = settings.jwt_issuer
        self._hs256 = settings.env != "production"
        self._jwks_url: PyJWKClient | None = None
        self._jwks_file: dict[str, PyJWK] = {}
        source = settings.jwt_jwks
        if source and source.startswith(("http://", "https://")):
            self._jwks_url = PyJWKClient(source, cache_keys=True)
        elif source:
            keys = PyJWKSet.from_json(Path(source).read_text()).keys
            self._jwks_file = {key.key_id or "": key for key in keys}

    @property
    def fetches_keys(self) -> bool:
        return self._jwks_url is not None

    def verify(self, token: str) -> Identity:
        now = time.time()
        with self._lock:
            kept = self._verified.get(token)
            if kept is not None and now < kept[1]:
                self._verified.move_to_end(token)
                return kept[0]
        identity, expires = self._check(token)
        with self._lock:
            self._verified[token] = (identity, min(expires, now + VERIFIED_FOR))
            self._verified.move_to_end(token)
            while len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        return identity

    def _check(self, token: str) -> tuple[Identity, float]:
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            key: Any
            if algorithm == "RS256" and (self._jwks_url or self._jwks_file):
                kid = header.get("kid") or ""
                if self._jwks_url is not None:
                    key = self._jwks_url.get_signing_key(kid).key
                elif kid in self._jwks_file:
                    key = self._jwks_file[kid].key
                else:
                    raise _unauthorized("Unknown signing key")
            elif algorithm == "HS256" and self._hs256:
                key = self._secret
            else:
                raise _unauthorized("Token algorithm not accepted")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                options={"require": ["exp", "sub", "iss"]},
            )
            return identify(claims), float(claims["exp"])
        except (jwt.PyJWTError, ValueError) as exc:  # ValidationError is a ValueError
            raise _unauthorized("Invalid bearer token") from exc


async def read_identity(request: Request) -> Identity:
    """The verified caller, tenant member or operator; 401 for a missing or bad token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Missing bearer token")
    verifier: TokenVerifier = request.app.state.verifier
    if verifier.fetches_keys:
        # Fetching the issuer's keys (first use, or a new kid) is blocking network I/O.
        return await asyncio.to_thread(verifier.verify, token)
    return verifier.verify(token)


@dataclass(frozen=True)
class Policy:
    """Who may call an endpoint: declared once, as the endpoint's `Principal` dependency.

    `site_scoped`: callers limited to some sites see and change only those sites' data.
    `changes_state`: the endpoint writes; auditors are never admitted to one.
    Admin is admitted everywhere inside its tenant; operators nowhere. The app copies each
    policy into the OpenAPI document (`x-medoffice-policy`), and a test fails for any endpoint
    without one.
    """

    roles: frozenset[Role]
    site_scoped: bool = False
    changes_state: bool = False

    def __post_init__(self) -> None:
        if self.changes_state and "auditor" in self.roles:
            raise ValueError("auditors change nothing")

    async def __call__(self, request: Request) -> Principal:
        principal = await read_identity(request)
        if isinstance(principal, Operator):
            raise HTTPException(403, "Operators act on the platform, not inside a tenant")
        admitted = (set(principal.roles) - {"admin"}) & self.roles
        if not admitted and "admin" not in principal.roles:
            raise HTTPException(403, "Your role does not allow this")
        if self.changes_state and not admitted:
            # Only admin let this change through: rare, and on the record.
            log.info(
                "admin_action",
                actor=principal.sub,
                tenant=principal.tenant,
                method=request.method,
                path=request.url.path,
            )
        return principal

    def describe(self) -> dict[str, object]:
        return {
            "roles": sorted({*self.roles, "admin"}),
            "site_scoped": self.site_scoped,
            "changes_state": self.changes_state,
        }


def policy(*roles: Role, site_scoped: bool = False, changes_state: bool = False) -> Any:
    """The `Principal` dependency of an endpoint, carrying its policy."""
    return Depends(Policy(frozenset(roles), site_scoped, changes_state))


@dataclass(frozen=True)
class OperatorPolicy:
    """Who may call a platform endpoint (`/ops/*`): operators only, never a tenant's admin,
    since it acts on every tenant at once. Published like `Policy`."""

    changes_state: bool = False

    async def __call__(self, request: Request) -> Operator:
        caller = await read_identity(request)
        if not isinstance(caller, Operator):
            raise HTTPException(403, "Only platform operators may do this")
        if self.changes_state:
            log.info(
                "operator_action", actor=caller.sub, method=request.method, path=request.url.path
            )
        return caller

    def describe(self) -> dict[str, object]:
        return {"roles": [OPERATOR], "site_scoped": False, "changes_state": self.changes_state}


def operator_policy(*, changes_state: bool = False) -> Any:
    """The `Operator` dependency of a platform endpoint, carrying its policy."""
    return Depends(OperatorPolicy(changes_state))
