"""What compliance records: the blocks of each tenant's audit ledger (`AuditBlockSealed`), and
the compliance officer's own events (policies and their acknowledgements, incidents, alerts).

The one module of compliance that another service may import (tests/unit/test_architecture.py).
The blocks are events of compliance's own store, but they are not relayed to the bus
(`unrelayed`): nothing else consumes them, and chained in turn they would chain themselves
forever (see `app.py`). The contract still names them, their version and their fields, for
whoever reads the store. Every other compliance event is published on compliance's topic like
any context's, so the audit log and the ledger take it up (compliance consumes its own topic
too). Compliance consumes every context's topic, and the operators' (what they did to dead
letters and read models: `shared/operations/events.py`): the audit log and the ledger take any
event as it arrives; the policies read model learns staff, roles and sites from staffing's;
the monitors read staffing's and scheduling's through those contexts' contracts.
"""

from __future__ import annotations

from services.compliance.domain.alerts import AlertAcknowledged, AlertRaised, AlertResolved
from services.compliance.domain.disclosures import PatientRecordAccessed
from services.compliance.domain.incidents import (
    BreachNotificationSent,
    IncidentClosed,
    IncidentReported,
    IncidentRiskAssessed,
    SafetyIncidentInvestigated,
)
from services.compliance.domain.ledger import AuditBlockSealed, LedgerEntry
from services.compliance.domain.policies import (
    PolicyAcknowledged,
    PolicyAcknowledgementReminded,
    PolicyPublished,
    PolicyRetired,
)
from shared.contracts import Contract
from shared.events import EventRegistry

EVENTS = (
    AuditBlockSealed,
    PatientRecordAccessed,
    PolicyPublished,
    PolicyAcknowledged,
    PolicyAcknowledgementReminded,
    PolicyRetired,
    IncidentReported,
    IncidentRiskAssessed,
    BreachNotificationSent,
    SafetyIncidentInvestigated,
    IncidentClosed,
    AlertRaised,
    AlertAcknowledged,
    AlertResolved,
)

CONTRACT = Contract(
    context="compliance",
    summary="The audit log, the hash-chained audit ledger of every context's events, and the "
    "alerts its monitors raise.",
    events=EVENTS,
    registry=EventRegistry(EVENTS),
    consumes=(
        "scheduling",
        "staffing",
        "billing",
        "finance",
        "engagement",
        "compliance",
        "operations",
    ),
    unrelayed=(AuditBlockSealed,),
)

__all__ = [
    "CONTRACT",
    "EVENTS",
    "AlertAcknowledged",
    "AlertRaised",
    "AlertResolved",
    "AuditBlockSealed",
    "BreachNotificationSent",
    "IncidentClosed",
    "IncidentReported",
    "IncidentRiskAssessed",
    "LedgerEntry",
    "PatientRecordAccessed",
    "PolicyAcknowledged",
    "PolicyAcknowledgementReminded",
    "PolicyPublished",
    "PolicyRetired",
    "SafetyIncidentInvestigated",
]
