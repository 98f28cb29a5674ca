"""What billing knows of a rendering provider, folded from its stream: name, NPI, taxonomy
(learnt from staffing) and enrolments with payers. A claim names a provider only while they
are enrolled with its payer on the date of service.

The learning deciders live in `learning.py`; claims read this state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.billing.domain.events import EnrolmentLearnt, ProviderLearnt
from shared.events import DomainEvent


@dataclass(frozen=True)
class RenderingProvider:
    name: str | None = None
    npi: str | None = None
    taxonomy_code: str | None = None
    enrolments: tuple[EnrolmentLearnt, ...] = ()  # every change, in the order learnt
    learnt: frozenset[str] = frozenset()

    def enrolled_with(self, payer_id: str, day: date) -> bool:
        """Enrolled with `payer_id` on `day`: of the payer's changes in effect by then (the
        last recorded with `effective_from` on or before it), that change is `enrolled` and
        has not ended (`effective_until`)."""
        in_effect: EnrolmentLearnt | None = None
        for enrolment in self.enrolments:
            if enrolment.payer_id == payer_id and enrolment.effective_from <= day:
                in_effect = enrolment
        if in_effect is None or in_effect.status != "enrolled":
            return False
        return in_effect.effective_until is None or day <= in_effect.effective_until


def evolve(state: RenderingProvider, event: DomainEvent) -> RenderingProvider:
    match event:
        case ProviderLearnt():
            return RenderingProvider(
                name=event.name if event.name is not None else state.name,
                npi=event.npi if event.npi is not None else state.npi,
                taxonomy_code=(
                    event.taxonomy_code if event.taxonomy_code is not None else state.taxonomy_code
                ),
                enrolments=state.enrolments,
                learnt=state.learnt | {event.learnt_from},
            )
        case EnrolmentLearnt():
            return RenderingProvider(
                name=state.name,
                npi=state.npi,
                taxonomy_code=state.taxonomy_code,
                enrolments=(*state.enrolments, event),
                learnt=state.learnt | {event.learnt_from},
            )
    return state
