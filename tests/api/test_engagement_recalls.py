"""Recalls: a manager's rule makes a completed visit of its type bring the patient due again;
once due, the recall timer plans the recall message (sent by the delivery timer, out of quiet
hours, on the consented channel) and the patient is on the site's recall list until they book;
a patient who opted out is listed but sent nothing. On both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from services.engagement.application.recalls import RecallTimer
from services.suite import Suite
from tests.api.conftest import ShiftedClock, TokenFor, booking, post_ok
from tests.api.test_engagement_delivery import outbox, patient, timer_of
from tests.api.test_engagement_surveys import completed
from tests.support import settled, wait_until

PROBLEM = "application/problem+json"
RECALL_TEXT = "Time to book your next visit at North: your last was on Tue 01 Dec 2026 at 09:00."


def recall_timer(suite: Suite) -> RecallTimer:
    return next(w for w in suite.service("engagement").workers if isinstance(w, RecallTimer))


async def recall_list(client: httpx.AsyncClient, **headers: str) -> list[dict[str, Any]]:
    response = await client.get("/engagement/recalls", params={"site": "north"}, headers=headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["recalls"]
    return rows


async def test_a_due_recall_is_sent_once_listed_until_booked_and_never_sent_to_an_opted_out_patient(
    client: httpx.AsyncClient,
    suite: Suite,
    clinic: dict[str, str],
    clock: ShiftedClock,
    token_for: TokenFor,
) -> None:
    manager = token_for("manager", sites=["north"])
    rule = await client.put(
        "/engagement/recall-rules/follow-up", json={"interval_months": 1}, headers=manager
    )
    assert rule.status_code == 200, rule.text
    await patient(client, "pat-1")
    await patient(client, "pat-2")
    first = await completed(client, suite, clinic, "pat-1", "2026-12-01T09:00:00-05:00")
    await completed(client, suite, clinic, "pat-2", "2026-12-01T10:00:00-05:00")
    opted_out = await client.put(
        "/engagement/patients/pat-2/consent/email", json={"opted_in": False}
    )
    assert opted_out.status_code == 200, opted_out.text

    async def opened() -> bool:
        streams = [
            (await client.get(f"/engagement/streams/acme:engagement-recall:{p}")).json()
            for p in ("pat-1", "pat-2")
        ]
        return all(len(s.get("events", [])) == 1 for s in streams)

    await wait_until(opened, timeout=60, message="both recalls opened")
    await settled(suite)
    assert await recall_list(client) == []  # not due before 1 January
    assert await recall_timer(suite).fire_due() == 0

    clock.shift = timedelta(days=37)  # 2 January 2027, 09:00 in New York
    assert await recall_timer(suite).fire_due() == 2
    assert await recall_timer(suite).fire_due() == 0  # once
    await settled(suite)
    rows = await recall_list(client, **token_for("front_desk", sites=["north"]))
    assert [(r["patient_id"], r["due_on"], r["sent"]) for r in rows] == [
        ("pat-1", "2027-01-01", True),
        ("pat-2", "2027-01-01", True),
    ]
    assert rows[0]["message_id"] == f"{first}:recall:20261201T1400Z"
    assert rows[1]["message_id"] is None  # opted out: no message planned

    await timer_of(suite).fire_due()
    await settled(suite)
    assert [m["text"] for m in await outbox(client, "pat-1") if "next visit" in m["text"]] == [
        RECALL_TEXT
    ]
    assert [m for m in await outbox(client, "pat-2") if "next visit" in m["text"]] == []

    await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="pat-1", start="2027-01-11T09:00:00-05:00"),
    )

    async def only_pat_2_listed() -> bool:
        return [r["patient_id"] for r in await recall_list(client)] == ["pat-2"]

    await wait_until(only_pat_2_listed, timeout=60, message="pat-1 off the recall list")


async def test_recall_rules_and_lists_refuse_bad_input_and_other_sites(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    manager = token_for("manager", sites=["north"])
    for wrong in ({"interval_months": 0}, {"interval_months": 121}, {"months": 12}):
        response = await client.put("/engagement/recall-rules/annual", json=wrong, headers=manager)
        assert response.status_code == 422, (wrong, response.text)
        assert response.headers["content-type"] == PROBLEM
    desk = token_for("front_desk", sites=["north"])
    refused = await client.put(
        "/engagement/recall-rules/annual", json={"interval_months": 12}, headers=desk
    )
    assert refused.status_code == 403, refused.text
    set_once = await client.put(
        "/engagement/recall-rules/annual", json={"interval_months": 12}, headers=manager
    )
    again = await client.put(
        "/engagement/recall-rules/annual", json={"interval_months": 12}, headers=manager
    )
    assert set_once.json()["stream_version"] == again.json()["stream_version"] == 1
    elsewhere = await client.get("/engagement/recalls", params={"site": "south"}, headers=desk)
    assert elsewhere.status_code == 403, elsewhere.text
    no_site = await client.get("/engagement/recalls", headers=desk)
    assert no_site.status_code == 422, no_site.text
