"""Signed audit exports: a package of a tenant's audit events of a period and the blocks that
chain them (`domain/exports.py`), signed with the export key (Ed25519, from the settings).

The service signs only a chain it has just verified under the ledger key, against its anchors:
a package never certifies a ledger that was tampered with (409 instead). The events are the
audit log's entries of the chained events whose time falls in the period (an entry not
projected yet is exported as the chain holds it: metadata and digest, without data); events
not chained yet are not in the package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.compliance.application.ledger import AuditLedger
from services.compliance.domain.exports import build_package, in_period, public_key_bytes
from shared.clock import Clock
from shared.domain import Invalid, Rejected

# The audit-log entries of a tenant's events, by event id, for the ids given.
LoggedEntries = Callable[[str, Sequence[str]], Awaitable[dict[str, dict[str, Any]]]]


class AuditExports:
    def __init__(
        self, ledger: AuditLedger, logged: LoggedEntries, key: Ed25519PrivateKey, clock: Clock
    ) -> None:
        self._ledger = ledger
        self._logged = logged
        self._key = key
        self._clock = clock

    @property
    def public_key(self) -> bytes:
        return public_key_bytes(self._key)

    async def export(self, tenant: str, start: datetime, end: datetime) -> bytes:
        """The signed package of the period [start, end)."""
        if start >= end:
            raise Invalid("the period must end after it starts ('from' before 'to')")

        def wanted(entry: dict[str, Any]) -> bool:
            try:
                return in_period(str(entry["time"]), start, end)
            except (KeyError, ValueError):
                return False  # not an entry as sealed: the check names that block

        check, stored, _ = await self._ledger.check_and_collect(tenant, wanted)
        verdict = check.verdict()
        if not verdict.verified:
            raise Rejected(
                f"the ledger does not verify (block {verdict.broken_at}: {verdict.reason}); "
                "no package is signed for it"
            )
        chained = [entry for block in stored for entry in block["entries"] if wanted(entry)]
        logged = await self._logged(tenant, [entry["event_id"] for entry in chained])
        events = [logged.get(entry["event_id"], entry) for entry in chained]
        return build_package(tenant, start, end, self._clock.now(), stored, events, self._key)
