"""Satisfaction surveys: a completed visit plans its survey message once (for a patient with a
consented channel), sent with a signed survey link; the patient answers once over the public
route, the comment sealed; NPS per site and provider for the month is served to managers and
auditors at their sites; a detractor's answer opens a feedback case, readable. On both
backends."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from services.suite import Suite
from tests.api.conftest import ShiftedClock, TokenFor, booking, post_ok, register
from tests.api.test_engagement_delivery import outbox, patient, planned, timer_of
from tests.api.test_engagement_links import anonymous
from tests.support import settled, wait_until

PROBLEM = "application/problem+json"
SURVEY_LINK = re.compile(r"Tell us how it went: \S*(/engagement/surveys/acme/\S+)")
VISIT = {"procedures": ["99213"], "diagnoses": ["E11.9"]}


async def completed(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str], patient_id: str, start: str
) -> str:
    """A visit of the patient's at `start`, booked (its messages planned) and completed."""
    made = await post_ok(
        client, "/scheduling/appointments", booking(clinic, patient_id=patient_id, start=start)
    )
    await planned(client, made["id"], 3)
    for step, body in (("check-in", None), ("complete", VISIT)):
        done = await client.post(f"/scheduling/appointments/{made['id']}/{step}", json=body)
        assert done.status_code == 200, done.text
    return str(made["id"])


async def survey_link(
    client: httpx.AsyncClient, suite: Suite, clock: ShiftedClock, patient_id: str
) -> str:
    """The survey link the patient's survey message carried, once sent (2 hours after)."""
    await settled(suite)
    clock.shift = timedelta(hours=3)
    await timer_of(suite).fire_due()
    await settled(suite)
    texts = [m["text"] for m in await outbox(client, patient_id)]
    links = [link for t in texts for link in SURVEY_LINK.findall(t)]
    assert len(links) == 1, texts
    assert any(t.startswith("Thank you for coming: your appointment at North") for t in texts)
    return str(links[0])


async def test_a_completed_visit_is_surveyed_once_and_a_detractor_opens_a_case(
    client: httpx.AsyncClient,
    suite: Suite,
    clinic: dict[str, str],
    clock: ShiftedClock,
    token_for: TokenFor,
) -> None:
    await patient(client, "pat-1")
    appointment_id = await completed(client, suite, clinic, "pat-1", "2026-12-01T09:00:00-05:00")

    async def survey_planned() -> bool:
        body = (await client.get(f"/engagement/appointments/{appointment_id}/messages")).json()
        return [m["purpose"] for m in body["messages"]].count("survey") == 1

    await wait_until(survey_planned, timeout=60, message="the survey message planned")
    link = await survey_link(client, suite, clock, "pat-1")

    async with anonymous(suite) as public:
        form = (await public.get(link)).json()
        assert form["answered"] is False
        assert form["questions"]["seen_within_15_minutes"] == ["yes", "no"]
        wrong = await public.post(
            link,
            json={
                "likelihood_to_recommend": 3,
                "answers": [{"question": "seen_within_15_minutes", "choice": "maybe"}],
            },
        )
        assert wrong.status_code == 422, wrong.text
        assert wrong.headers["content-type"] == PROBLEM
        answer = {
            "likelihood_to_recommend": 3,
            "answers": [{"question": "staff_courteous_and_helpful", "choice": "sometimes"}],
            "comment": "Waited an hour for my knee",
        }
        answered = await public.post(link, json=answer)
        assert answered.status_code == 201, answered.text
        again = await public.post(link, json=answer)
        assert again.status_code == 409, again.text
        assert (await public.get(link)).json()["answered"] is True
    written = answered.json()

    # The comment is sealed where it is recorded.
    stream = (await client.get(f"/engagement/streams/{written['stream']}")).json()
    recorded = next(e for e in stream["events"] if e["type"].endswith("SurveyAnswered.v1"))
    assert "knee" not in str(recorded)
    assert recorded["data"]["comment"]["phi"] == 1

    params = {
        "month": "2026-12",
        "site_id": "north",
        "after_stream": written["stream"],
        "after_version": written["stream_version"],
    }
    manager = token_for("manager", sites=["north"])
    nps = await client.get("/engagement/nps", params=params, headers=manager)
    assert nps.status_code == 200, nps.text
    score = {"promoters": 0, "passives": 0, "detractors": 1, "answers": 1, "nps": -100}
    assert nps.json() == {
        "month": "2026-12",
        "sites": [{"site_id": "north", "month": "2026-12", **score}],
        "providers": [
            {"site_id": "north", "provider_id": clinic["provider_id"], "month": "2026-12", **score}
        ],
    }
    elsewhere = await client.get(
        "/engagement/nps", params={"month": "2026-12"}, headers=token_for("manager", sites=["s"])
    )
    assert elsewhere.json() == {"month": "2026-12", "sites": [], "providers": []}
    front_desk = token_for("front_desk", sites=["north"])
    refused = await client.get("/engagement/nps", params=params, headers=front_desk)
    assert refused.status_code == 403

    async def case() -> dict[str, Any]:
        response = await client.get(f"/engagement/cases/survey-{appointment_id}")
        body: dict[str, Any] = response.json() if response.status_code == 200 else {}
        return body

    opened = await wait_until(case, timeout=60, message="the detractor's feedback case")
    assert (opened["kind"], opened["source"], opened["site_id"]) == ("complaint", "survey", "north")
    assert opened["summary"] == "Survey: likelihood to recommend 3 of 10"
    assert opened["survey_id"] == appointment_id
    assert opened["patient_id"] == "pat-1"


async def test_a_promoter_opens_no_case_and_a_patient_with_no_channel_gets_no_survey(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str], clock: ShiftedClock
) -> None:
    await patient(client, "pat-1")
    await register(client, "pat-2")  # consented to no channel
    happy = await completed(client, suite, clinic, "pat-1", "2026-12-01T09:00:00-05:00")
    made = await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="pat-2", start="2026-12-01T10:00:00-05:00"),
    )
    for step, body in (("check-in", None), ("complete", VISIT)):
        done = await client.post(f"/scheduling/appointments/{made['id']}/{step}", json=body)
        assert done.status_code == 200, done.text
    link = await survey_link(client, suite, clock, "pat-1")

    async with anonymous(suite) as public:
        answered = await public.post(link, json={"likelihood_to_recommend": 10})
        assert answered.status_code == 201, answered.text
    written = answered.json()
    params = {
        "month": "2026-12",
        "site_id": "north",
        "after_stream": written["stream"],
        "after_version": written["stream_version"],
    }
    nps = (await client.get("/engagement/nps", params=params)).json()
    assert [(s["answers"], s["promoters"], s["nps"]) for s in nps["sites"]] == [(1, 1, 100)]
    await settled(suite)
    assert (await client.get(f"/engagement/cases/survey-{happy}")).status_code == 404
    # pat-2 was planned nothing: no booking messages, no survey.
    assert (await client.get(f"/engagement/appointments/{made['id']}/messages")).status_code == 404
    assert await outbox(client, "pat-2") == []
