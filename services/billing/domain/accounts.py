"""What billing knows of a patient, folded from its patient-account stream: demographics and
coverages (learnt from scheduling; PHI stays sealed here, opened only to write a claim file).

The learning deciders live in `learning.py`; charges and claims read this state.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.billing.domain.events import (
    CoverageLearnt,
    PatientForgottenLearnt,
    PatientLearnt,
)
from shared.events import DomainEvent


@dataclass(frozen=True)
class PatientAccount:
    demographics: PatientLearnt | None = None
    # The coverages in force, by priority: one per priority (the latest learnt there replaces
    # any other, as scheduling records it), a coverage id learnt again updated.
    coverages: tuple[CoverageLearnt, ...] = ()
    forgotten: bool = False
    learnt: frozenset[str] = frozenset()  # the ids of the events learnt from

    def coverage(self, priority: int) -> CoverageLearnt | None:
        """The coverage that pays in this place (1 primary, 2 secondary), if any."""
        return next((c for c in self.coverages if c.priority == priority), None)

    @property
    def primary(self) -> CoverageLearnt | None:
        return self.coverage(1)


def evolve(state: PatientAccount, event: DomainEvent) -> PatientAccount:
    match event:
        case PatientLearnt():
            return PatientAccount(
                demographics=event,
                coverages=state.coverages,
                forgotten=state.forgotten,
                learnt=state.learnt | {event.learnt_from},
            )
        case CoverageLearnt():
            kept = tuple(
                c
                for c in state.coverages
                if c.coverage_id != event.coverage_id and c.priority != event.priority
            )
            coverages = tuple(sorted((*kept, event), key=lambda c: c.priority))
            return PatientAccount(
                demographics=state.demographics,
                coverages=coverages,
                forgotten=state.forgotten,
                learnt=state.learnt | {event.learnt_from},
            )
        case PatientForgottenLearnt():
            return PatientAccount(
                demographics=state.demographics,
                coverages=state.coverages,
                forgotten=True,
                learnt=state.learnt | {event.learnt_from},
            )
    return state
