"""What compliance records: its alerts (`AlertRaised`, `AlertAcknowledged`, `AlertResolved`),
published on `medoffice.compliance.events`, and the blocks of each tenant's audit ledger
(`AuditBlockSealed`), kept in its store.

The one module of compliance that another service may import (tests/unit/test_architecture.py).
The blocks are events of compliance's own store, but they are not relayed to the bus
(`unrelayed`): nothing else consumes them, and chained in turn they would chain themselves
forever (see `app.py`). The contract still names them, their version and their fields, for
whoever reads the store. Alerts are relayed: the alerts read model is fed from the bus, and
the ledger chains them like any other event.
Compliance consumes every context's topic: the audit log and the ledger take any event as it
arrives; its monitors read staffing's and scheduling's through those contexts' contracts.
"""

from __future__ import annotations

from services.compliance.domain.alerts import AlertAcknowledged, AlertRaised, AlertResolved
from services.compliance.domain.ledger import AuditBlockSealed, LedgerEntry
from shared.contracts import Contract
from shared.events import EventRegistry

EVENTS = (AuditBlockSealed, AlertRaised, AlertAcknowledged, AlertResolved)

CONTRACT = Contract(
    context="compliance",
    summary="The audit log, the hash-chained audit ledger of every context's events, and the "
    "alerts its monitors raise.",
    events=EVENTS,
    registry=EventRegistry(EVENTS),
    unrelayed=(AuditBlockSealed,),
    consumes=("scheduling", "staffing", "billing", "compliance"),
)

__all__ = [
    "CONTRACT",
    "EVENTS",
    "AlertAcknowledged",
    "AlertRaised",
    "AlertResolved",
    "AuditBlockSealed",
    "LedgerEntry",
]
