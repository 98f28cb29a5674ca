"""Production tokens: RS256, checked against the issuer's JWKS; HS256 refused there."""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from services.suite import build_suite
from shared.clock import SystemClock
from shared.http.identity import mint_operator_token, mint_token
from shared.settings import Settings
from tests.support import TestRunClock

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SECRET = "a-production-secret-that-is-long-enough-for-hs256"
KEK = base64.b64encode(bytes(range(32))).decode()


TENANT_CLAIMS: dict[str, object] = {"tenant": "acme", "roles": ["auditor"], "sites": "*"}
OPERATOR_CLAIMS: dict[str, object] = {"roles": ["operator"]}


def rs256(private_key: rsa.RSAPrivateKey, kid: str, claims: dict[str, object] | None = None) -> str:
    now = int(SystemClock().now().timestamp())
    signed = {"iss": "medoffice", "sub": "svc", "iat": now, "exp": now + 600}
    signed.update(TENANT_CLAIMS if claims is None else claims)
    return jwt.encode(signed, private_key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(params=["file", "url"])
def jwks(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The issuer's JWKS, as a file or served over HTTP on loopback."""
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    if request.param == "file":
        yield str(path)
        return
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
async def client(tmp_path: Path, jwks: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        env="production",
        data_dir=tmp_path,
        seed_demo=False,
        kafka_bootstrap=None,
        mongo_url=None,
        jwt_secret=SECRET,
        jwt_jwks=jwks,
        phi_kek=KEK,
        ledger_key=KEK,  # production refuses the development ledger key too
        engagement_link_base_url="https://clinic.invalid",  # and links to a loopback address
    )
    suite = await build_suite(settings, clock=TestRunClock())
    await suite.start()
    transport = httpx.ASGITransport(app=suite.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://medoffice") as client:
        yield client
    await suite.stop()


async def sites(client: httpx.AsyncClient, token: str) -> int:
    response = await client.get("/scheduling/sites", headers={"authorization": f"Bearer {token}"})
    return response.status_code


async def test_a_token_signed_by_the_issuers_key_is_accepted(client: httpx.AsyncClient) -> None:
    assert await sites(client, rs256(KEY, "k1")) == 200


async def test_a_token_signed_by_another_key_is_refused(client: httpx.AsyncClient) -> None:
    assert await sites(client, rs256(OTHER, "k1")) == 401
    assert await sites(client, rs256(KEY, "unknown-kid")) == 401


async def test_shared_secret_tokens_are_refused_in_production(
    client: httpx.AsyncClient,
) -> None:
    token = mint_token(
        SECRET,
        issuer="medoffice",
        subject="u",
        tenant="acme",
        roles=["admin"],
        sites=None,
        now=SystemClock().now(),
    )
    assert await sites(client, token) == 401


def test_production_needs_a_jwks() -> None:
    with pytest.raises(ValueError, match="MEDOFFICE_JWT_JWKS"):
        Settings(env="production", jwt_secret=SECRET, jwt_jwks=None, phi_kek=KEK)


async def test_operators_tokens_from_the_issuer_reach_ops_and_shared_secret_ones_do_not(
    client: httpx.AsyncClient,
) -> None:
    async def ops(token: str) -> int:
        headers = {"authorization": f"Bearer {token}"}
        return (await client.get("/ops/projections", headers=headers)).status_code

    assert await ops(rs256(KEY, "k1", OPERATOR_CLAIMS)) == 200
    assert await ops(rs256(KEY, "k1")) == 403  # a tenant's auditor
    assert await ops(rs256(OTHER, "k1", OPERATOR_CLAIMS)) == 401
    hs256 = mint_operator_token(SECRET, issuer="medoffice", subject="u", now=SystemClock().now())
    assert await ops(hs256) == 401
