"""Writes docs/asyncapi.yaml from every service's contract: `python -m services.asyncapi`.

`--check` writes nothing and exits 1 when the committed document differs from the contracts
(tests/unit/test_contracts.py does the same). Needs the test extras (PyYAML).
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from services.billing.contracts import CONTRACT as BILLING
from services.compliance.contracts import CONTRACT as COMPLIANCE
from services.engagement.contracts import CONTRACT as ENGAGEMENT
from services.finance.contracts import CONTRACT as FINANCE
from services.scheduling.contracts import CONTRACT as SCHEDULING
from services.staffing.contracts import CONTRACT as STAFFING
from shared.asyncapi import asyncapi_document
from shared.operations.events import CONTRACT as OPERATIONS

CONTRACTS = (SCHEDULING, STAFFING, BILLING, FINANCE, ENGAGEMENT, COMPLIANCE, OPERATIONS)
DOCUMENT = Path(__file__).parents[1] / "docs" / "asyncapi.yaml"
COMMAND = "python -m services.asyncapi"
BANNER = f"# Generated from services/*/contracts.py by `{COMMAND}`: do not edit.\n"
DESCRIPTION = """\
The events medoffice's services publish, one topic per context. Each Kafka record is a \
CloudEvent 1.0 in binary mode: attributes and extensions in `ce_*` headers, the event's data \
as the JSON value, the event's stream as the key (order holds within a stream). Delivery is at \
least once: consumers skip an event id they have seen. PHI fields (`x-medoffice-phi`) travel \
sealed (AES-256-GCM) under the key of the patient named by the message's \
`x-medoffice-phi-subject` field; forgetting a patient destroys that key.
"""


def document() -> dict[str, Any]:
    return asyncapi_document(
        CONTRACTS,
        title="medoffice events",
        version=version("medoffice"),
        description=DESCRIPTION.strip(),
    )


def render() -> str:
    body = yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
    return BANNER + body


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != text:
            print(f"{DOCUMENT} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
