"""Signed audit exports over HTTP: the package of a period, and the key that signs them.

Like the ledger, a package spans every site of the tenant: for auditors and tenant-wide admins.
`medoffice audit verify PACKAGE --public-key K` checks one offline.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from services.compliance.api.audit import LedgerAuditors, tenant_wide
from services.compliance.application.exports import AuditExports
from services.compliance.domain.exports import fingerprint
from shared.http.identity import Principal
from shared.http.routes import PlausibleTime


def _whole_tenant(who: Principal) -> None:
    if not tenant_wide(who):
        raise HTTPException(
            403, "An audit export spans every site: auditors and tenant-wide admins"
        )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def build_exports_router(exports: AuditExports) -> APIRouter:
    router = APIRouter(prefix="/compliance", tags=["compliance"])

    @router.get(
        "/audit-exports",
        response_class=Response,
        responses={200: {"content": {"application/zip": {}}}},
    )
    async def audit_export(
        start: Annotated[PlausibleTime, Query(alias="from")],
        end: Annotated[PlausibleTime, Query(alias="to")],
        who: Principal = LedgerAuditors,
    ) -> Response:
        """A zip of the tenant's chained events whose time is in [from, to) (ISO times, UTC
        when no offset is given), the ledger blocks chaining them and a manifest of their
        digests signed with Ed25519; 409 when the ledger does not verify."""
        _whole_tenant(who)
        start, end = _utc(start), _utc(end)
        package = await exports.export(who.tenant, start, end)
        name = f"audit-{who.tenant}-{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}.zip"
        return Response(
            package,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/audit-exports/public-key")
    async def audit_export_key(who: Principal = LedgerAuditors) -> dict[str, Any]:
        """The Ed25519 public key that signs audit exports (base64 of its 32 raw bytes), to
        give `medoffice audit verify --public-key`."""
        raw = exports.public_key
        return {
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(raw).decode(),
            "fingerprint": fingerprint(raw),
        }

    return router
