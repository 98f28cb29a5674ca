"""The services' published contracts, and the AsyncAPI document generated from them.

Each service's `contracts.py` is what other services may import: its `__all__` is pinned here
(as httpx pins its exports), so removing or renaming a published name is a deliberate change.
docs/asyncapi.yaml must be what the contracts generate, and valid against the official
AsyncAPI 3.0.0 JSON Schema (docs/schemas/asyncapi-3.0.0.json, from `@asyncapi/specs`).
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import jsonschema
import pytest
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT202012

import services.asyncapi as generator
from services.billing import contracts as billing
from services.compliance import contracts as compliance
from services.compliance.projections.audit_log import CONTEXTS
from services.engagement import contracts as engagement
from services.finance import contracts as finance
from services.finance.domain import events as finance_events
from services.scheduling import contracts as scheduling
from services.scheduling.domain import events as scheduling_events
from services.staffing import contracts as staffing
from shared import asyncapi
from shared.cloudevents import to_message
from shared.contracts import Contract, phi_of
from shared.events import DomainEvent, EventRegistry, Metadata, seal
from shared.phi import PhiEvent, Sealed

ROOT = Path(__file__).parents[2]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
SCHEMA = ROOT / "docs" / "schemas" / "asyncapi-3.0.0.json"
T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)

SCHEDULING_EXPORTS = {
    *(cls.__name__ for cls in scheduling.EVENTS),
    "CONTRACT",
    "EVENTS",
    "Hours",
    "Sealed",
    "Window",
    "registry",
}
COMPLIANCE_EXPORTS = {
    *(cls.__name__ for cls in compliance.EVENTS),
    "CONTRACT",
    "EVENTS",
    "LedgerEntry",
}
BILLING_EXPORTS = {
    *(cls.__name__ for cls in billing.EVENTS),
    "CONTRACT",
    "EVENTS",
    "SELF_PAY",
    "Sealed",
    "registry",
    # the parts events are made of
    "Adjustment",
    "ChargeLine",
    "CodingIssue",
    "Fee",
    "LineAdjudication",
    "PostalAddress",
    "BatchSubmitter",  # claims: who a claim file was written for, and from which versions
    "StreamVersion",
    "RemittedClaim",  # billing II: a remittance's claim payment, without names
    "PaymentMethod",  # how a patient paid or was refunded
    "remittance_id_for",  # a payment's id from its payer and trace number
}
STAFFING_EXPORTS = {
    *(cls.__name__ for cls in staffing.EVENTS),
    "CONTRACT",
    "EVENTS",
    "LICENCE_KINDS",
    "PROVIDER_ROLES",
    "Sealed",
    "StaffingMinimum",
    "registry",
    "CompetencyRating",  # training and reviews: a manager review's rating of one competency
}
ENGAGEMENT_EXPORTS = {
    *(cls.__name__ for cls in engagement.EVENTS),
    "CHANNELS",
    "CONTRACT",
    "EVENTS",
    "Sealed",
    "registry",
    "SurveyAnswer",  # a survey's answer to one question
}
FINANCE_EXPORTS = {
    *(cls.__name__ for cls in finance.EVENTS),
    "CONTRACT",
    "EVENTS",
    "Sealed",
    "registry",
    # the parts events are made of
    "Account",
    "BudgetLine",
    "CostCentre",
    "InvoiceLine",
    "JournalLine",
    "RunInvoice",
}


# ---------------------------------------------------------------------------- the contracts


@pytest.mark.parametrize(
    ("module", "exports"),
    [
        (scheduling, SCHEDULING_EXPORTS),
        (staffing, STAFFING_EXPORTS),
        (billing, BILLING_EXPORTS),
        (engagement, ENGAGEMENT_EXPORTS),
        (compliance, COMPLIANCE_EXPORTS),
        (finance, FINANCE_EXPORTS),
    ],
    ids=["scheduling", "staffing", "billing", "engagement", "compliance", "finance"],
)
def test_the_published_names_are_pinned(module: ModuleType, exports: set[str]) -> None:
    names: list[str] = module.__all__
    assert len(names) == len(set(names)), "a name exported twice"
    assert set(names) == exports
    for name in names:
        assert hasattr(module, name), name


def test_scheduling_publishes_every_event_it_defines() -> None:
    defined = {
        cls
        for _, cls in inspect.getmembers(scheduling_events, inspect.isclass)
        if issubclass(cls, scheduling_events.SchedulingEvent)
        and cls is not scheduling_events.SchedulingEvent
    }
    assert set(scheduling.EVENTS) == defined
    assert len(scheduling.EVENTS) == len(defined)
    assert scheduling.CONTRACT.registry is scheduling_events.registry


def test_type_names_versions_and_topics() -> None:
    assert scheduling.AppointmentBooked.type_name() == "medoffice.scheduling.AppointmentBooked.v1"
    assert scheduling.CONTRACT.topic() == "medoffice.scheduling.events"
    assert scheduling.CONTRACT.topic("t1.") == "t1.medoffice.scheduling.events"
    assert scheduling.CONTRACT.source == "/medoffice/scheduling"
    assert scheduling.CONTRACT.event("medoffice.scheduling.VisitCompleted.v1") is (
        scheduling.VisitCompleted
    )
    assert compliance.AuditBlockSealed.type_name() == "medoffice.compliance.AuditBlockSealed.v1"
    # The ledger's blocks stay in its store; the officer's events are published.
    assert compliance.CONTRACT.publishes(compliance.AuditBlockSealed) is False
    assert compliance.CONTRACT.publishes(compliance.PolicyPublished) is True
    assert compliance.CONTRACT.publishes(compliance.AlertRaised)
    assert compliance.AlertRaised.type_name() == "medoffice.compliance.AlertRaised.v1"
    for contract in (scheduling.CONTRACT, compliance.CONTRACT):
        for cls in contract.events:
            assert contract.registry.knows(cls.type_name())
            assert cls.version >= 1


def test_compliance_declares_the_topics_its_audit_log_reads() -> None:
    assert compliance.CONTRACT.consumes == CONTEXTS


@pytest.mark.parametrize(
    "cls",
    [
        *scheduling.EVENTS,
        *staffing.EVENTS,
        *billing.EVENTS,
        *engagement.EVENTS,
        *compliance.EVENTS,
        *finance.EVENTS,
    ],
    ids=lambda c: c.__name__,
)
def test_phi_fields_are_declared_on_events_that_seal_them(cls: type[DomainEvent]) -> None:
    # The vault seals an event's PHI only when it is a PhiEvent: a Phi field elsewhere would
    # travel in plain text.
    assert bool(phi_of(cls)) == issubclass(cls, PhiEvent)
    if issubclass(cls, PhiEvent):
        assert cls.phi_subject in cls.model_fields


def test_the_phi_fields_of_staffing_are_the_known_ones() -> None:
    # Optional (`Phi | None`) fields too: their mark sits inside the union.
    marked = {cls.__name__: phi_of(cls) for cls in staffing.EVENTS if phi_of(cls)}
    assert marked == {
        "PersonalDetailsRecorded": ("home_address", "phone", "emergency_contact", "birth_date"),
    }


def test_the_phi_fields_of_billing_are_the_known_ones() -> None:
    marked = {cls.__name__: phi_of(cls) for cls in billing.EVENTS if phi_of(cls)}
    assert marked == {
        "PatientLearnt": ("name", "birth_date", "sex", "address"),
        "CoverageLearnt": ("member_id", "subscriber_name"),
    }


def test_the_phi_fields_of_finance_are_the_known_ones() -> None:
    # A vendor's tax id is sealed like personal data, under the vendor's own key.
    marked = {cls.__name__: phi_of(cls) for cls in finance.EVENTS if phi_of(cls)}
    assert marked == {"VendorRegistered": ("tax_id",)}
    assert finance.VendorRegistered.phi_subject == "vendor_id"


def test_finance_declares_what_it_reads_and_every_event_it_defines() -> None:
    assert finance.CONTRACT.consumes == ("finance", "billing", "scheduling")
    assert finance.CONTRACT.topic() == "medoffice.finance.events"
    assert finance.InvoicePaid.type_name() == "medoffice.finance.InvoicePaid.v1"
    defined = {
        cls
        for _, cls in inspect.getmembers(finance_events, inspect.isclass)
        if issubclass(cls, finance_events.FinanceEvent) and cls is not finance_events.FinanceEvent
    }
    assert set(finance.EVENTS) == defined
    for cls in finance.EVENTS:
        assert not any(
            name.endswith("_cents") and info.annotation is not int
            for name, info in cls.model_fields.items()
        ), f"{cls.__name__}: money is integer cents"


def test_the_phi_fields_of_scheduling_are_the_known_ones() -> None:
    marked = {cls.__name__: phi_of(cls) for cls in scheduling.EVENTS if phi_of(cls)}
    assert marked == {
        "AppointmentCancelled": ("reason",),
        "PatientRegistered": ("name", "birth_date", "phone", "email", "address", "sex"),
        "CoverageRecorded": ("member_id", "subscriber_name"),
        "IntakeRecorded": ("reason_for_visit", "answers"),
        "PatientTriaged": ("chief_complaint",),
    }


class Paid(DomainEvent):
    context: ClassVar[str] = "billing"
    claim_id: str


def test_a_contract_refuses_an_event_of_another_context_or_outside_its_registry() -> None:
    with pytest.raises(ValueError, match="belongs to 'billing'"):
        Contract("scheduling", "s", (Paid,), EventRegistry([Paid]))
    with pytest.raises(ValueError, match="not in the billing registry"):
        Contract("billing", "b", (Paid,), EventRegistry())


# ------------------------------------------------------------------------ the AsyncAPI document


def official_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    assert schema["$id"] == "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
    return jsonschema.Draft7Validator(schema)


def committed() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return document


def test_the_committed_document_is_what_the_contracts_generate() -> None:
    assert DOCUMENT.read_text() == generator.render(), (
        f"docs/asyncapi.yaml is out of date: run `{generator.COMMAND}` and commit it"
    )


def test_the_check_command_fails_on_a_stale_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert generator.main(["--check"]) == 0
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text(DOCUMENT.read_text().replace("AppointmentBooked", "AppointmentMade"))
    monkeypatch.setattr(generator, "DOCUMENT", stale)
    assert generator.main(["--check"]) == 1
    assert "run `python -m services.asyncapi`" in capsys.readouterr().err


def test_the_document_is_valid_asyncapi_3() -> None:
    errors = [e.message for e in official_validator().iter_errors(committed())]
    assert errors == []


def _broken(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    no_version = copy.deepcopy(document)
    del no_version["info"]["version"]
    yield "info without a version", no_version
    publish = copy.deepcopy(document)
    publish["operations"]["scheduling.publish"]["action"] = "publish"  # AsyncAPI 2's verb
    yield "an operation that neither sends nor receives", publish
    binding = copy.deepcopy(document)
    binding["channels"]["scheduling"]["bindings"]["kafka"]["partitions"] = "many"
    yield "a Kafka binding with a partition count that is no number", binding
    payload = copy.deepcopy(document)
    payload["components"]["schemas"]["Sealed"]["type"] = 7
    yield "a payload schema of no type", payload


def test_a_broken_document_is_refused() -> None:
    validator = official_validator()
    for what, document in _broken(committed()):
        assert not validator.is_valid(document), what


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_reference_resolves_and_operations_send_their_channels_messages() -> None:
    document = committed()
    for ref in _refs(document):
        _resolve(document, ref)
    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel}/messages/"), name


def test_channels_and_operations_follow_the_contracts() -> None:
    document = committed()
    assert {c["address"] for c in document["channels"].values()} == {
        "medoffice.scheduling.events",
        "medoffice.staffing.events",
        "medoffice.billing.events",
        "medoffice.finance.events",
        "medoffice.engagement.events",
        "medoffice.compliance.events",
        "medoffice.operations.events",  # what operators did, audited by compliance
    }
    assert {
        name: (op["action"], op["channel"]["$ref"]) for name, op in document["operations"].items()
    } == {
        "scheduling.publish": ("send", "#/channels/scheduling"),
        "scheduling.receive.scheduling": ("receive", "#/channels/scheduling"),
        "scheduling.receive.staffing": ("receive", "#/channels/staffing"),
        "scheduling.receive.engagement": ("receive", "#/channels/engagement"),
        "compliance.receive.scheduling": ("receive", "#/channels/scheduling"),
        "staffing.publish": ("send", "#/channels/staffing"),
        "staffing.receive.staffing": ("receive", "#/channels/staffing"),
        "compliance.receive.staffing": ("receive", "#/channels/staffing"),
        "billing.publish": ("send", "#/channels/billing"),
        "billing.receive.billing": ("receive", "#/channels/billing"),
        "billing.receive.scheduling": ("receive", "#/channels/scheduling"),
        "billing.receive.staffing": ("receive", "#/channels/staffing"),
        "compliance.receive.billing": ("receive", "#/channels/billing"),
        "engagement.publish": ("send", "#/channels/engagement"),
        "engagement.receive.engagement": ("receive", "#/channels/engagement"),
        "engagement.receive.scheduling": ("receive", "#/channels/scheduling"),
        "engagement.receive.billing": ("receive", "#/channels/billing"),
        "engagement.receive.staffing": ("receive", "#/channels/staffing"),
        "engagement.receive.compliance": ("receive", "#/channels/compliance"),
        "compliance.receive.engagement": ("receive", "#/channels/engagement"),
        "finance.publish": ("send", "#/channels/finance"),
        "finance.receive.finance": ("receive", "#/channels/finance"),
        "finance.receive.billing": ("receive", "#/channels/billing"),
        "finance.receive.scheduling": ("receive", "#/channels/scheduling"),
        "compliance.receive.finance": ("receive", "#/channels/finance"),
        "compliance.publish": ("send", "#/channels/compliance"),
        "compliance.receive.compliance": ("receive", "#/channels/compliance"),
        "operations.publish": ("send", "#/channels/operations"),
        "compliance.receive.operations": ("receive", "#/channels/operations"),
    }
    messages = document["components"]["messages"]
    assert set(document["channels"]["scheduling"]["messages"]) == {
        f"scheduling.{cls.__name__}.v1" for cls in scheduling.EVENTS
    }
    assert set(document["channels"]["staffing"]["messages"]) == {
        f"staffing.{cls.__name__}.v1" for cls in staffing.EVENTS
    }
    assert set(document["channels"]["billing"]["messages"]) == {
        f"billing.{cls.__name__}.v1" for cls in billing.EVENTS
    }
    assert set(document["channels"]["engagement"]["messages"]) == {
        f"engagement.{cls.__name__}.v1" for cls in engagement.EVENTS
    }
    assert set(document["channels"]["finance"]["messages"]) == {
        f"finance.{cls.__name__}.v1" for cls in finance.EVENTS
    }
    # The ledger's blocks stay in compliance's store; its other events are on its topic.
    assert set(document["channels"]["compliance"]["messages"]) == {
        f"compliance.{cls.__name__}.v1"
        for cls in compliance.EVENTS
        if cls is not compliance.AuditBlockSealed
    }
    assert messages["compliance.AuditBlockSealed.v1"]["x-medoffice-stored-only"] is True
    assert "x-medoffice-stored-only" not in messages["compliance.PolicyPublished.v1"]


def test_phi_fields_are_marked_in_the_document() -> None:
    document = committed()
    schemas, messages = document["components"]["schemas"], document["components"]["messages"]
    events: list[type[DomainEvent]] = [
        *scheduling.EVENTS,
        *staffing.EVENTS,
        *billing.EVENTS,
        *finance.EVENTS,
        *engagement.EVENTS,
        *compliance.EVENTS,
    ]
    for cls in events:
        message = messages[asyncapi.message_key(cls)]
        payload = _resolve(document, message["payload"]["$ref"])
        marked = {
            name for name, prop in payload["properties"].items() if prop.get("x-medoffice-phi")
        }
        assert marked == set(phi_of(cls)), cls.__name__
        if marked:
            assert issubclass(cls, PhiEvent)
            assert message["x-medoffice-phi-subject"] == cls.phi_subject
        else:
            assert "x-medoffice-phi-subject" not in message
    assert schemas["PatientRegistered"]["properties"]["name"]["x-medoffice-phi"] is True


def _validator(document: dict[str, Any], ref: str) -> jsonschema.Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        "urn:asyncapi", DRAFT202012.create_resource(document)
    )
    return jsonschema.Draft202012Validator({"$ref": f"urn:asyncapi{ref}"}, registry=registry)


def _record(event: DomainEvent, subject: str) -> tuple[dict[str, str], Any]:
    envelope = seal(
        event,
        stream="acme:site-day:north:2026-12-01",
        stream_version=1,
        meta=Metadata(tenant="acme", actor="u-1", site="north", correlation_id="c-1"),
        event_id="e-1",
        time=T0,
        subject=subject,
    )
    message = to_message(envelope.model_copy(update={"position": 7}), "t")
    return message.headers, json.loads(message.value)


def test_records_as_written_match_their_message_in_the_document() -> None:
    document = committed()
    sealed = Sealed(subject="pat-1", nonce="bm9uY2U=", ct="Y3Q=")
    booked = scheduling.AppointmentBooked(
        appointment_id="a-1",
        patient_id="pat-1",
        provider_id="p-1",
        site_id="north",
        room_id=None,
        visit_type_id="v-1",
        start=T0,
        end=T0,
        booked_at=T0,
    )
    registered = scheduling.PatientRegistered(
        patient_id="pat-1",
        name=sealed,
        birth_date=sealed,
        phone=sealed,
        registered_at=T0,
        email=sealed,
        address=sealed,
    )
    for event, subject in [(booked, "a-1"), (registered, "pat-1")]:
        headers, data = _record(event, subject)
        at = f"#/components/messages/{asyncapi.message_key(type(event))}"
        _validator(document, f"{at}/headers").validate(headers)
        _validator(document, f"{at}/payload").validate(data)
        wrong_type = headers | {"ce_type": "medoffice.scheduling.Other.v1"}
        assert not _validator(document, f"{at}/headers").is_valid(wrong_type)
        assert not _validator(document, f"{at}/payload").is_valid(data | {"extra": 1})


def test_a_header_the_document_does_not_describe_stops_the_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = dict(asyncapi.HEADER_DOCS)
    del docs["ce_traceparent"]
    monkeypatch.setattr(asyncapi, "HEADER_DOCS", docs)
    with pytest.raises(ValueError, match="ce_traceparent"):
        asyncapi.cloudevent_headers()
