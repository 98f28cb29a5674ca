"""Performance review use cases: open a cycle, start an employee's review in it, take its
steps (each by its own person: the caller's `meta.actor`), and the review read models' queries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from services.staffing.application.employment import Sites, employee
from services.staffing.domain import streams
from services.staffing.domain.employment import NotTheirs
from services.staffing.domain.reviews import (
    STEPS,
    Acknowledge,
    Cycle,
    OpenCycle,
    Review,
    ReviewCommand,
    SignOff,
    StartReview,
    SubmitManagerReview,
    SubmitSelfAssessment,
    review,
    review_cycle,
)
from services.staffing.projections.reviews import CYCLES, PROJECTION, REVIEWS, cycle_id
from shared.commands import CommandHandler, Outcome
from shared.domain import Invalid, NotFound
from shared.events import Metadata
from shared.readmodels import ReadModels, public
from shared.usecases import UseCases


class Reviews(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    # ------------------------------------------------------------------------- commands

    async def open_cycle(
        self,
        meta: Metadata,
        *,
        cycle_id: str,
        name: str,
        period_start: date,
        period_end: date,
        due_on: date,
        competencies: tuple[str, ...],
    ) -> Outcome[Cycle]:
        command = OpenCycle(
            cycle_id=cycle_id,
            name=name,
            period_start=period_start,
            period_end=period_end,
            due_on=due_on,
            competencies=competencies,
        )
        return await self.decide(
            streams.review_cycle(meta.tenant, cycle_id), review_cycle, command, meta
        )

    async def start_review(
        self,
        meta: Metadata,
        *,
        review_id: str,
        cycle_id: str,
        employee_id: str,
        reviewer_id: str | None,
        within: Sites = "*",
    ) -> Outcome[Review]:
        """Start the employee's review in the cycle, by `reviewer_id` (their manager when
        None). One per employee and cycle."""
        cycle = await self.state(streams.review_cycle(meta.tenant, cycle_id), review_cycle)
        if cycle.cycle_id is None:
            raise NotFound(f"review cycle {cycle_id} not found")
        reviewed = await employee(self, meta.tenant, employee_id, within)
        reviewer_id = reviewer_id or reviewed.manager_id
        if reviewer_id is None:
            raise Invalid(f"employee {employee_id} has no manager: name a reviewer_id")
        try:
            await employee(self, meta.tenant, reviewer_id)
        except NotFound as exc:
            raise Invalid(f"reviewer {reviewer_id} is not an employee") from exc
        command = StartReview(
            review_id=review_id,
            cycle_id=cycle_id,
            employee_id=employee_id,
            reviewer_id=reviewer_id,
            competencies=cycle.competencies,
            site_ids=reviewed.site_ids,
            started_at=self.now(),
        )
        return await self.decide(
            streams.review(meta.tenant, cycle_id, employee_id), review, command, meta
        )

    async def _step(
        self, meta: Metadata, review_id: str, command: ReviewCommand
    ) -> Outcome[Review]:
        found = await self._handler.store.streams_tagged(streams.review_tag(meta.tenant, review_id))
        if not found:
            raise NotFound(f"review {review_id} not found")
        return await self.decide(found[-1], review, command, meta)

    async def self_assess(self, meta: Metadata, review_id: str, *, summary: str) -> Outcome[Review]:
        command = SubmitSelfAssessment(actor=meta.actor, summary=summary, submitted_at=self.now())
        return await self._step(meta, review_id, command)

    async def manager_review(
        self,
        meta: Metadata,
        review_id: str,
        *,
        ratings: Mapping[str, int],
        goals: tuple[str, ...],
        summary: str,
    ) -> Outcome[Review]:
        command = SubmitManagerReview(
            actor=meta.actor, ratings=ratings, goals=goals, summary=summary, submitted_at=self.now()
        )
        return await self._step(meta, review_id, command)

    async def sign_off(self, meta: Metadata, review_id: str) -> Outcome[Review]:
        return await self._step(meta, review_id, SignOff(actor=meta.actor, signed_at=self.now()))

    async def acknowledge(self, meta: Metadata, review_id: str, *, comment: str) -> Outcome[Review]:
        command = Acknowledge(actor=meta.actor, comment=comment, acknowledged_at=self.now())
        return await self._step(meta, review_id, command)

    # ------------------------------------------------------------------------- queries

    async def cycle_status(self, tenant: str, cycle: str, sites: Sites) -> dict[str, Any]:
        """The cycle, its reviews (of staff at `sites`) and how many stand at each step."""
        found = public(await self._read_models.get(PROJECTION, CYCLES, cycle_id(tenant, cycle)))
        if found is None:
            raise NotFound(f"review cycle {cycle} not found")
        docs = await self._read_models.find(
            PROJECTION, REVIEWS, {"tenant": tenant, "cycle_id": cycle}, sort=[("employee_id", 1)]
        )
        rows = [
            {
                "review_id": d["review_id"],
                "employee_id": d["employee_id"],
                "reviewer_id": d["reviewer_id"],
                "status": d["status"],
                "signed_by": sorted(d["sign_offs"]),
            }
            for d in docs
            if sites == "*" or set(d.get("site_ids") or ()) & set(sites)
        ]
        counts = Counter(r["status"] for r in rows)
        found.pop("tenant", None)
        return {**found, "counts": {s: counts[s] for s in STEPS}, "reviews": rows}

    async def review(self, tenant: str, review_id: str) -> dict[str, Any]:
        docs = await self._read_models.find(
            PROJECTION, REVIEWS, {"tenant": tenant, "review_id": review_id}
        )
        if not docs:
            raise NotFound(f"review {review_id} not found")
        doc = public(docs[0]) or {}
        doc.pop("tenant", None)
        return doc

    @staticmethod
    def may_read(review: Mapping[str, Any], sub: str, sites: Sites, everyone: bool) -> None:
        # `sites`: those whose staff the caller manages ([] for staff).
        """403 unless the caller reads every review (hr), is its employee or reviewer, or
        manages a site of the employee's."""
        if everyone or sub in (review["employee_id"], review["reviewer_id"]):
            return
        if sites == "*" or set(review.get("site_ids") or ()) & set(sites):
            return
        raise NotTheirs(f"review {review['review_id']} is not yours to read")
