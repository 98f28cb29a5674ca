"""Protected health information in schemas: the `Phi` field type and what marks it.

A PHI field holds either its plaintext (inside the service, before storage) or a `Sealed`
value: AES-256-GCM under the patient's data key (see shared.phivault). Pure: domain events
import it.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo

from shared.events import DomainEvent


class PhiMark:
    """Marks a model field as PHI (see `Phi`)."""


class Sealed(BaseModel):
    """A PHI value encrypted under its patient's data key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phi: Literal[1] = 1
    subject: str
    nonce: str
    ct: str


Phi = Annotated[str | Sealed, PhiMark()]


class PhiEvent(DomainEvent):
    """An event with PHI fields; `phi_subject` names the field holding the patient's id."""

    phi_subject: ClassVar[str] = "patient_id"

    @classmethod
    def phi_field_names(cls) -> tuple[str, ...]:
        return phi_fields(cls)


def phi_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields marked `Phi`, optional ones (`Phi | None`) included: pydantic keeps the mark
    of those inside the union, not in the field's own metadata."""
    return tuple(name for name, info in cls.model_fields.items() if _marked(info))


def _marked(info: FieldInfo) -> bool:
    if any(isinstance(m, PhiMark) for m in info.metadata):
        return True
    return any(
        get_origin(arg) is Annotated and any(isinstance(m, PhiMark) for m in get_args(arg)[1:])
        for arg in get_args(info.annotation)
    )
