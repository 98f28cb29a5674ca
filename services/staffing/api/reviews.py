"""Performance reviews over HTTP: cycles (hr, admin), an employee's review in a cycle (hr;
managers for their sites' staff), its steps (each by its own person: 403 for anyone else, 409
out of order), the cycle's status per employee and a review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.staffing.api.common import Day, everyone, reach
from services.staffing.application.reviews import Reviews
from services.staffing.domain import streams
from services.staffing.domain.reviews import MAX_COMPETENCIES
from services.staffing.projections.reviews import (
    CYCLES,
    PROJECTION,
    REVIEWS,
    cycle_id,
    review_doc_id,
)
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Name, Recorded, read_after, recorded
from shared.readmodels import ReadModels

Configure = policy("hr", changes_state=True)  # and admin
Start = policy("hr", "manager", site_scoped=True, changes_state=True)
# The step's own person (the employee, the reviewer) whatever their role; 403 for others.
Step = policy("staff", "manager", "hr", changes_state=True)
Read = policy("hr", "manager", "staff", site_scoped=True)

Text = Annotated[str, Field(max_length=10_000)]
Competency = Annotated[str, Field(min_length=1, max_length=100)]


class CycleIn(Body):
    cycle_id: Id | None = None
    name: Name
    period_start: Day
    period_end: Day
    due_on: Day
    competencies: list[Competency] = Field(min_length=1, max_length=MAX_COMPETENCIES)


class ReviewIn(Body):
    review_id: Id | None = None
    employee_id: Id
    reviewer_id: Id | None = None  # the employee's manager when left out


class SelfAssessmentIn(Body):
    summary: Text = Field(min_length=1)


class ManagerReviewIn(Body):
    """A rating from 1 to 5 of every competency the cycle names, and the goals set."""

    ratings: dict[Competency, int] = Field(min_length=1, max_length=MAX_COMPETENCIES)
    goals: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        min_length=1, max_length=20
    )
    summary: Text = ""


class AcknowledgementIn(Body):
    comment: Text = ""


def build_router(reviews: Reviews, read_models: ReadModels, wait_timeout: float) -> APIRouter:
    router = APIRouter(prefix="/staffing", tags=["reviews"])

    async def wait(collection: str, doc_id: str, stream: str, version: int) -> None:
        await read_after(
            read_models, PROJECTION, collection, doc_id, stream, version, wait_timeout,
            reviews.stream_version,
        )  # fmt: skip

    @router.post("/review-cycles", status_code=201)
    async def open_cycle(request: Request, body: CycleIn, who: Principal = Configure) -> Recorded:
        cycle = body.cycle_id or reviews.new_id()
        outcome = await reviews.open_cycle(
            metadata(request, who),
            cycle_id=cycle,
            name=body.name,
            period_start=body.period_start,
            period_end=body.period_end,
            due_on=body.due_on,
            competencies=tuple(body.competencies),
        )
        return recorded(cycle, outcome)

    @router.post("/review-cycles/{cycle}/reviews", status_code=201)
    async def start_review(
        request: Request, cycle: Id, body: ReviewIn, who: Principal = Start
    ) -> Recorded:
        """Start an employee's review in the cycle; one per employee and cycle (409)."""
        review_id = body.review_id or reviews.new_id()
        outcome = await reviews.start_review(
            metadata(request, who),
            review_id=review_id,
            cycle_id=cycle,
            employee_id=body.employee_id,
            reviewer_id=body.reviewer_id,
            within=reach(who),
        )
        return recorded(review_id, outcome)

    @router.post("/reviews/{review_id}/self-assessment", status_code=201)
    async def self_assess(
        request: Request, review_id: Id, body: SelfAssessmentIn, who: Principal = Step
    ) -> Recorded:
        """The employee's self-assessment: the review's first step."""
        outcome = await reviews.self_assess(metadata(request, who), review_id, summary=body.summary)
        return recorded(review_id, outcome)

    @router.post("/reviews/{review_id}/manager-review", status_code=201)
    async def manager_review(
        request: Request, review_id: Id, body: ManagerReviewIn, who: Principal = Step
    ) -> Recorded:
        """The reviewer's ratings (1 to 5, every competency of the cycle) and goals, after the
        self-assessment."""
        outcome = await reviews.manager_review(
            metadata(request, who),
            review_id,
            ratings=body.ratings,
            goals=tuple(body.goals),
            summary=body.summary,
        )
        return recorded(review_id, outcome)

    @router.post("/reviews/{review_id}/sign-off", status_code=201)
    async def sign_off(request: Request, review_id: Id, who: Principal = Step) -> Recorded:
        """Sign as the reviewer or as the employee (the caller is one of them), after the
        manager review, in either order."""
        outcome = await reviews.sign_off(metadata(request, who), review_id)
        return recorded(review_id, outcome)

    @router.post("/reviews/{review_id}/acknowledgement", status_code=201)
    async def acknowledge(
        request: Request, review_id: Id, body: AcknowledgementIn, who: Principal = Step
    ) -> Recorded:
        """The employee acknowledges the review once both have signed it off."""
        outcome = await reviews.acknowledge(metadata(request, who), review_id, comment=body.comment)
        return recorded(review_id, outcome)

    @router.get("/review-cycles/{cycle}")
    async def cycle_status(
        cycle: Id,
        who: Principal = Read,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """The cycle, its reviews (a manager's: their sites' staff) with each one's step, and
        how many stand at each step. `after_stream` (the cycle's, or one of its reviews') and
        `after_version` wait for that write."""
        if reach(who) == []:
            raise HTTPException(403, "Only hr and managers read a cycle's status")
        if after_version is not None:
            review_prefix = f"{who.tenant}:review:{cycle}:"
            if after_stream == streams.review_cycle(who.tenant, cycle):
                await wait(CYCLES, cycle_id(who.tenant, cycle), after_stream, after_version)
            elif after_stream is not None and after_stream.startswith(review_prefix):
                employee_id = after_stream.removeprefix(review_prefix)
                doc_id = review_doc_id(who.tenant, cycle, employee_id)
                await wait(REVIEWS, doc_id, after_stream, after_version)
            else:
                raise HTTPException(400, "after_version needs the after_stream it belongs to")
        return await reviews.cycle_status(who.tenant, cycle, reach(who))

    @router.get("/reviews/{review_id}")
    async def review(
        review_id: Id,
        who: Principal = Read,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """A review: its employee and reviewer read it, managers of the employee's sites, hr.
        `after_stream` (the review's, as a write answered) and `after_version` wait for it."""
        if after_version is not None:
            prefix = f"{who.tenant}:review:"
            cycle, _, employee_id = (after_stream or "").removeprefix(prefix).partition(":")
            if after_stream is None or not after_stream.startswith(prefix) or not employee_id:
                raise HTTPException(400, "after_version needs the after_stream it belongs to")
            doc_id = review_doc_id(who.tenant, cycle, employee_id)
            await wait(REVIEWS, doc_id, after_stream, after_version)
        found = await reviews.review(who.tenant, review_id)
        reviews.may_read(found, who.sub, reach(who), everyone(who))
        return found

    return router
