"""Billing's bus consumers and timers: what it does on its own, not asked over HTTP.

Reactors (each its own consumer group, `reactor.<name>`): billing learns patients and their
coverages from scheduling's topic, rendering providers and their enrolments from staffing's.
The reactions are use cases (`application/learning.py`); this module declares which run.

Charges: each completed visit (scheduling's `VisitCompleted`) becomes its charge, once
(`ChargeCompletedVisits`, consumer group `reactor.billing.charge_completed_visits`), dated
at its site, whose time zone billing learns from `SiteRegistered` (`LearnSiteZones`). A
self-pay charge is repriced under a coverage billing learns later (`RepriceSelfPayCharges`).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.billing.application.charges import (
    ChargeCompletedVisits,
    Charges,
    LearnSiteZones,
    RepriceSelfPayCharges,
)
from services.billing.application.claims import (
    Claims,
    MakeClaims,
    RecheckClaims,
    RecheckDraftClaims,
)
from services.billing.application.clearinghouse import (
    Clearinghouse,
    SendClaimFiles,
    TakeAcknowledgements,
)
from services.billing.application.learning import (
    LearnFromScheduling,
    LearnFromStaffing,
    Learning,
)
from services.billing.application.patients import (
    AssessPatients,
    Patients,
    StatementRun,
    Statements,
)
from services.billing.application.receivables import Receivables, SnapshotReceivables
from services.billing.application.remittances import (
    PostRemittances,
    Remittances,
    ResumePostings,
)
from shared.clock import Clock
from shared.reactions import Reaction
from shared.settings import Settings
from shared.timers import Timer


def reactions(
    learning: Learning,
    charges: Charges,
    claims: Claims,
    patients: Patients,
    remittances: Remittances,
) -> Sequence[Reaction]:
    return [
        LearnFromScheduling(learning),
        LearnFromStaffing(learning),
        ChargeCompletedVisits(charges),
        LearnSiteZones(charges),
        MakeClaims(claims),  # claims from released (or repriced) charges; secondary claims
        RepriceSelfPayCharges(charges),  # self-pay charges repriced under a coverage learnt
        RecheckClaims(claims),  # draft claims made ready when what they lacked arrives
        AssessPatients(patients),  # the patient's side: what patients owe
        PostRemittances(remittances),  # remittances received are posted, each payment once
    ]


def timers(
    settings: Settings,
    clearinghouse: Clearinghouse,
    claims: Claims,
    statements: Statements,
    remittances: Remittances,
    receivables: Receivables,
    clock: Clock,
) -> Sequence[Timer]:
    every = settings.clearinghouse_poll_seconds
    return [
        SendClaimFiles(clearinghouse, every),  # clearinghouse (area 6): claim files out
        TakeAcknowledgements(clearinghouse, every),  # clearinghouse (area 6): 999/277CA back in
        RecheckDraftClaims(claims, settings.claims_recheck_seconds),  # what reactions missed
        StatementRun(statements, settings.statement_run_seconds),  # monthly statements, stages
        ResumePostings(remittances, settings.remittance_resume_seconds),  # postings cut short
        SnapshotReceivables(  # receivables: monthly snapshots of the sums, for the aging
            receivables, clock, settings.receivables_snapshot_seconds
        ),
    ]
