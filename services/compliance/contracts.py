"""What compliance records: the blocks of each tenant's audit ledger (`AuditBlockSealed`).

The one module of compliance that another service may import (tests/unit/test_architecture.py).
The blocks are events of compliance's own store, but they are not relayed to the bus: nothing
else consumes them, and chained in turn they would chain themselves forever (see `app.py`).
The contract still names them, their version and their fields, for whoever reads the store.
Compliance consumes every context's topic: the audit log and the ledger take any event as it
arrives.
"""

from __future__ import annotations

from services.compliance.domain.disclosures import PatientRecordAccessed
from services.compliance.domain.ledger import AuditBlockSealed, LedgerEntry
from shared.contracts import Contract
from shared.events import EventRegistry

EVENTS = (AuditBlockSealed, PatientRecordAccessed)

CONTRACT = Contract(
    context="compliance",
    summary="The audit log and the hash-chained audit ledger of every context's events.",
    events=EVENTS,
    registry=EventRegistry(EVENTS),
    relayed=False,
    consumes=("scheduling", "staffing", "billing", "compliance"),
)

__all__ = ["CONTRACT", "EVENTS", "AuditBlockSealed", "LedgerEntry"]
