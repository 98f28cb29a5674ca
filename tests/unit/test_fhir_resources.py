"""Read-model documents map to valid FHIR R4 resources, whatever fields they have yet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.api.fhir import ids, resources, search
from services.scheduling.api.fhir.resources import Directory
from shared.http import fhir
from tests.fhir_validation import valid

pytestmark = pytest.mark.usefixtures("hl7_validator")

DIRECTORY = Directory(
    sites={"north": {"site_id": "north", "name": "North", "time_zone": "America/New_York"}},
    rooms={"exam_1": {"room_id": "exam_1", "site_id": "north", "name": "Exam 1"}},
    providers={"dr_a": {"provider_id": "dr_a", "name": "Dr. A", "site_ids": ["north"]}},
    visit_types={"follow-up": {"visit_type_id": "follow-up", "name": "Follow-up"}},
)


def appointment_doc(**change: Any) -> dict[str, Any]:
    return {
        "tenant": "acme",
        "appointment_id": "appt_1",
        "stream": "acme:provider-day:dr_a:2026-12-01",
        "status": "booked",
        "patient_id": "pat_1",
        "provider_id": "dr_a",
        "site_id": "north",
        "room_id": "exam_1",
        "visit_type_id": "follow-up",
        "start": "2026-12-01T14:00:00+00:00",
        "end": "2026-12-01T14:30:00+00:00",
        "booked_at": "2026-11-20T10:00:00+00:00",
        **change,
    }


@pytest.mark.parametrize(
    ("ours", "fhir"),
    [
        ("booked", "booked"),
        ("checked_in", "checked-in"),
        ("in_room", "checked-in"),
        ("completed", "fulfilled"),
        ("cancelled", "cancelled"),
        ("no_show", "noshow"),
    ],
)
def test_every_appointment_status_has_its_r4_code(ours: str, fhir: str) -> None:
    resource = valid(resources.appointment(appointment_doc(status=ours), DIRECTORY))
    assert resource["status"] == fhir


def test_an_unknown_status_is_not_guessed() -> None:
    with pytest.raises(resources.UnmappedStatus):
        resources.appointment(appointment_doc(status="rescheduled"), DIRECTORY)


def test_an_appointment_names_its_participants_codes_and_times() -> None:
    doc = appointment_doc(
        status="completed",
        procedures=["99213", "G0439"],
        diagnoses=["E11.9", "I10"],
        late_cancellation=False,
        series_id="series-1",
    )
    resource = valid(resources.appointment(doc, DIRECTORY))

    assert resource["id"] == "appt.1"
    assert (resource["start"], resource["end"]) == ("2026-12-01T14:00:00Z", "2026-12-01T14:30:00Z")
    assert resource["minutesDuration"] == 30
    assert resource["created"] == "2026-11-20T10:00:00Z"
    assert [p["actor"] for p in resource["participant"]] == [
        {"reference": "Patient/pat.1"},
        {"reference": "Practitioner/dr.a", "display": "Dr. A"},
        {"reference": "Location/site-north", "display": "North"},
        {"reference": "Location/room-exam.1", "display": "Exam 1"},
    ]
    assert resource["appointmentType"] == {
        "coding": [
            {"system": resources.VISIT_TYPE_SYSTEM, "code": "follow-up", "display": "Follow-up"}
        ],
        "text": "Follow-up",
    }
    assert [c["coding"][0] for c in resource["serviceType"]] == [
        {"system": resources.CPT, "code": "99213"},
        {"system": resources.HCPCS, "code": "G0439"},
    ]
    assert [c["coding"][0] for c in resource["reasonCode"]] == [
        {"system": resources.ICD10CM, "code": "E11.9"},
        {"system": resources.ICD10CM, "code": "I10"},
    ]


def test_a_cancellation_reason_shows_as_text_or_masked() -> None:
    told = resources.appointment(
        appointment_doc(status="cancelled", cancel_reason="Feeling better", room_id=None),
        DIRECTORY,
    )
    assert valid(told)["cancelationReason"] == {"text": "Feeling better"}
    assert len(told["participant"]) == 3
    withheld = valid(
        resources.appointment(
            appointment_doc(status="cancelled", cancel_reason="[redacted]"), DIRECTORY
        )
    )
    assert withheld["cancelationReason"] == {"extension": [resources.MASKED]}
    assert withheld["meta"]["security"] == [resources.REDACTED_LABEL]


def test_a_patient_and_a_forgotten_one() -> None:
    shown = valid(
        resources.patient(
            {
                "patient_id": "pat_1",
                "name": "Ada Lovelace",
                "birth_date": "1815-12-10",
                "phone": "",
                "email": "ada@example.org",
                "forgotten": False,
            }
        )
    )
    assert shown == {
        "resourceType": "Patient",
        "id": "pat.1",
        "name": [{"text": "Ada Lovelace"}],
        "telecom": [{"system": "email", "value": "ada@example.org"}],
        "birthDate": "1815-12-10",
    }
    gone = valid(
        resources.patient(
            {
                "patient_id": "pat_1",
                "name": "[redacted]",
                "birth_date": "[redacted]",
                "phone": "[redacted]",
                "forgotten": True,
            }
        )
    )
    assert "[redacted]" not in str(gone)
    assert gone["name"] == [{"extension": [resources.MASKED]}]
    assert gone["_birthDate"] == {"extension": [resources.MASKED]}
    assert gone["telecom"] == [{"extension": [resources.MASKED], "system": "phone"}]
    assert gone["meta"]["security"] == [resources.REDACTED_LABEL]


def test_locations_and_schedules() -> None:
    site = valid(resources.site_location(DIRECTORY.sites["north"]))
    assert site["extension"] == [
        {"url": resources.LOCATION_TIMEZONE, "valueCode": "America/New_York"}
    ]
    room = valid(resources.room_location(DIRECTORY.rooms["exam_1"], DIRECTORY.sites["north"]))
    assert room["partOf"] == {"reference": f"Location/{site['id']}", "display": "North"}
    schedule = valid(resources.schedule(DIRECTORY.providers["dr_a"], "north", DIRECTORY))
    assert schedule["id"] == "4-dr.a-north"


def test_the_capability_statement_and_an_operation_outcome_validate() -> None:
    statement = valid(
        fhir.capability_statement("http://medoffice/fhir/R4/", resources.CAPABILITIES)
    )
    assert statement["fhirVersion"] == "4.0.1"
    valid(fhir.operation_outcome(404, ["Patient/x not found"]))


def test_our_ids_map_one_to_one_and_fit_fhir() -> None:
    assert ids.fhir_id("pat_1-a") == "pat.1-a"
    assert ids.our_id("pat.1-a") == "pat_1-a"
    assert ids.our_id("pat_1") is None  # not a FHIR id
    assert ids.our_id("x" * 65) is None
    longest = "a" * 64
    located = {ids.site_location_id(longest), ids.room_location_id(longest)}
    located |= {ids.site_location_id("a" * 58), ids.room_location_id("a" * 58)}
    assert len(located) == 4
    assert all(ids.FHIR_ID.fullmatch(i) for i in located)
    # The length prefix keeps (a-b, c) and (a, b-c) apart.
    assert ids.schedule_id("a-b", "c") != ids.schedule_id("a", "b-c")
    assert len(ids.schedule_id(longest, longest)) == 64


@pytest.mark.parametrize(
    "value", ["2026-12-1", "yesterday", "ap2026-12-01", "2026-02-30", "ge2026-12-01T10:00"]
)
def test_a_bad_date_is_refused(value: str) -> None:
    with pytest.raises(search.BadSearch):
        search.dates([value])


def test_date_bounds_compare_site_local_days() -> None:
    [ge, le] = search.dates(["ge2026-12-01", "le2026-12-02"])
    assert search.utc_window([ge, le]) == (
        date(2026, 11, 30),
        date(2026, 12, 4),
    )
    assert ge.admits(date(2026, 12, 1))
    assert not ge.admits(date(2026, 11, 30))
    assert le.admits(date(2026, 12, 2))
    assert not le.admits(date(2026, 12, 3))


def test_an_appointment_search_becomes_one_store_filter() -> None:
    bounds = search.dates(["ge2026-12-01", "lt2026-12-03"])
    patients = [{"Patient/pat.1", "Patient/pat-2"}, {"Patient/pat.1"}]
    assert search.appointment_filter("acme", patients, bounds, ["north"]) == {
        "tenant": "acme",
        "patient_id": {"$in": ["pat_1"]},
        "start": {"$gte": "2026-11-30", "$lt": "2026-12-04"},
        "site_id": {"$in": ["north"]},
    }
    assert search.appointment_filter("acme", [], [], "*") == {"tenant": "acme"}
    assert search.appointment_filter("acme", [{"Patient/a"}, {"Patient/b"}], [], "*") is None
    assert search.appointment_filter("acme", [], [], []) is None
    never = search.dates(["lt2026-12-01", "gt2026-12-05"])
    assert search.appointment_filter("acme", [], never, "*") is None


def test_a_free_slot_names_its_schedule_and_visit_type() -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    slot = valid(
        resources.slot(
            "dr_a",
            "north",
            DIRECTORY.visit_types["follow-up"],
            start,
            start + timedelta(minutes=30),
        )
    )
    assert slot == {
        "resourceType": "Slot",
        "id": "202612011400-9-follow-up-4-dr.a-north",
        "appointmentType": {
            "coding": [
                {"system": resources.VISIT_TYPE_SYSTEM, "code": "follow-up", "display": "Follow-up"}
            ],
            "text": "Follow-up",
        },
        "schedule": {"reference": "Schedule/4-dr.a-north"},
        "status": "free",
        "start": "2026-12-01T14:00:00Z",
        "end": "2026-12-01T14:30:00Z",
    }
    bundle = valid(fhir.searchset("http://m/fhir/R4/", "http://m/x", [slot], counted=False))
    assert "total" not in bundle


def test_slot_ids_are_unambiguous_and_fit_fhir() -> None:
    start = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    # The length prefix keeps (visit a-b, site c) and (visit a, site b-c) apart.
    assert ids.slot_id("p", "c", "a-b", start) != ids.slot_id("p", "b-c", "a", start)
    assert ids.slot_id("p", "c", "v", start) != ids.slot_id("p", "c", "v", start.replace(minute=15))
    longest = ids.slot_id("a" * 64, "b" * 64, "c" * 64, start)
    assert len(longest) == 64
    assert ids.FHIR_ID.fullmatch(longest)


@pytest.mark.parametrize(
    ("values", "days"),
    [
        ([], (None, None)),
        (["2026-12-01"], (date(2026, 12, 1), date(2026, 12, 1))),
        (["ge2026-12-01"], (date(2026, 12, 1), None)),
        (["gt2026-12-01"], (date(2026, 12, 2), None)),
        (["le2026-12-01"], (None, date(2026, 12, 1))),
        (["lt2026-12-01"], (None, date(2026, 11, 30))),
        (["ge2026-12-01", "lt2026-12-08"], (date(2026, 12, 1), date(2026, 12, 7))),
        (["ge2026-12-01", "ge2026-12-03", "le2026-12-09"], (date(2026, 12, 3), date(2026, 12, 9))),
        (["gt2026-12-05", "lt2026-12-01"], (date(2026, 12, 6), date(2026, 11, 30))),
    ],
)
def test_start_bounds_become_a_range_of_days(
    values: list[str], days: tuple[date | None, date | None]
) -> None:
    assert search.day_range(search.dates(values)) == days


def test_single_valued_parameters_tokens_codes_and_counts() -> None:
    assert search.one({"schedule": ["a"]}, "schedule") == "a"
    assert search.one({}, "schedule") is None
    for many in (["a", "b"], ["a,b"]):
        with pytest.raises(search.BadSearch, match="takes one value"):
            search.one({"schedule": many}, "schedule")
    assert search.token("follow-up", "urn:x") == "follow-up"
    assert search.token("urn:x|follow-up", "urn:x") == "follow-up"
    assert search.token("urn:y|follow-up", "urn:x") is None
    assert search.token("|follow-up", "urn:x") is None
    with pytest.raises(search.BadSearch, match="has no code"):
        search.token("urn:x|", "urn:x")
    assert search.codes(["free,busy", "free"], ("free", "busy")) == [{"free", "busy"}, {"free"}]
    with pytest.raises(search.BadSearch, match="unknown code 'open'"):
        search.codes(["free,open"], ("free", "busy"))
    assert search.count([], 20, 200) == 20
    assert search.count(["200"], 20, 200) == 200
    for bad in (["0"], ["201"], ["-1"], ["1.5"], ["ten"], ["5", "6"]):
        with pytest.raises(search.BadSearch, match="_count"):
            search.count(bad, 20, 200)


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (
            {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []},
            "Array cannot be empty",
        ),
        (
            {
                "resourceType": "Location",
                "extension": [
                    {"url": "http://hl7.org/fhir/StructureDefinition/timezone", "valueCode": "UTC"}
                ],
                "name": "North",
            },
            "timezone could not be found",
        ),
        (
            {
                "resourceType": "Location",
                "extension": [{"url": resources.LOCATION_TIMEZONE, "valueCode": "Mars/Olympus"}],
                "name": "North",
            },
            "Mars/Olympus",
        ),
        ({"resourceType": "Appointment", "status": "booked"}, "participant"),
    ],
)
def test_the_hl7_validator_refuses_what_r4_forbids(broken: dict[str, Any], why: str) -> None:
    with pytest.raises(AssertionError, match="HL7 FHIR validator") as refused:
        valid(broken)
    assert why in str(refused.value)


def test_the_published_extension_is_what_sites_carry() -> None:
    definition = valid(resources.PUBLISHED[resources.LOCATION_TIMEZONE_ID]())
    assert definition["url"] == resources.LOCATION_TIMEZONE
    assert definition["url"].endswith(f"/StructureDefinition/{definition['id']}")
    site = resources.site_location(DIRECTORY.sites["north"])
    assert site["extension"][0]["url"] == definition["url"]


def test_an_empty_searchset_has_no_entry() -> None:
    bundle = valid(fhir.searchset("http://m/fhir/R4/", "http://m/x", []))
    assert "entry" not in bundle
    assert bundle["total"] == 0


@pytest.mark.parametrize(
    "value", ["0001-01-01", "ge0001-12-31", "9999-01-01", "le9999-12-31", "gt9999-12-31"]
)
def test_a_date_in_the_first_or_last_year_is_refused(value: str) -> None:
    with pytest.raises(search.BadSearch, match="out of range"):
        search.dates([value])
    assert search.dates(["ge0002-01-01", "le9998-12-31"])
