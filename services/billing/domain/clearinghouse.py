"""The clearinghouse's rules, pure: the name a claim file is sent under, which tenant and claim
file an acknowledgement's name points back to, and the rejected-files list.

A claim file goes out as `medoffice-<tenant>-<ISA13>.837`: deterministic, so sending it again
after a crash puts the same bytes under the same name (the port makes that a no-op), and
unique per tenant (ISA13 is). The simulator, and clearinghouses that echo the name of the file
they answer, name acknowledgements after it (`medoffice-<tenant>-<ISA13>.999`, `.277`...).

The rejected-files list is a stream per tenant (`streams.clearinghouse_inbox`): one
`ClearinghouseFileRejected` per file (name and digest) billing could not take; a file
rejected again (read twice) records nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from pydantic import AwareDatetime

from services.billing.domain.events import ClearinghouseFileRejected
from shared.domain import Command, Decider
from shared.events import DomainEvent

PREFIX = "medoffice"
_NAMED = re.compile(rf"^{PREFIX}-(?P<tenant>.+)-(?P<isa13>\d{{9}})(?:\.[A-Za-z0-9]+)+$")


def file_name(tenant: str, interchange_control_number: int) -> str:
    """The name a claim file is sent under."""
    return f"{PREFIX}-{tenant}-{interchange_control_number:09d}.837"


@dataclass(frozen=True)
class NamedAfter:
    tenant: str
    interchange_control_number: int


def named_after(name: str) -> NamedAfter | None:
    """The tenant and ISA13 of the claim file whose name `name` echoes, if it does."""
    match = _NAMED.match(name)
    if match is None:
        return None
    return NamedAfter(match["tenant"], int(match["isa13"]))


# ----------------------------------------------------------------------------- rejected files

_NONE: Mapping[tuple[str, str], ClearinghouseFileRejected] = MappingProxyType({})


@dataclass(frozen=True)
class Inbox:
    # (file name, digest) -> its rejection
    rejected: Mapping[tuple[str, str], ClearinghouseFileRejected] = field(
        default_factory=lambda: _NONE
    )


class RejectFile(Command):
    file_name: str
    digest: str
    reason: str
    rejected_at: AwareDatetime


def evolve(state: Inbox, event: DomainEvent) -> Inbox:
    if isinstance(event, ClearinghouseFileRejected):
        key = (event.file_name, event.digest)
        return Inbox(MappingProxyType({**state.rejected, key: event}))
    return state


def decide(state: Inbox, command: RejectFile) -> Sequence[DomainEvent]:
    if (command.file_name, command.digest) in state.rejected:
        return []  # the same file read twice
    return [ClearinghouseFileRejected(**command.model_dump())]


inbox = Decider[Inbox, RejectFile](Inbox(), evolve, decide)
