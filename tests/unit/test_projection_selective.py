"""Which event types a projection that names what it handles lets the runner skip unread."""

from __future__ import annotations

from typing import Any

from services.scheduling.domain.events import (
    AppointmentBooked,
    AppointmentCancelled,
    SiteRegistered,
    registry,
)
from services.scheduling.projections.appointments import AppointmentsProjection
from services.scheduling.projections.directory import DirectoryProjection
from shared.events import EventRegistry
from shared.projections import skipped_types

OLD_BOOKED = "medoffice.scheduling.AppointmentBooked.v0"


def test_registered_types_it_does_not_handle_are_skipped_and_its_own_are_not() -> None:
    skipped = skipped_types(AppointmentsProjection(), registry)
    assert skipped is not None
    assert SiteRegistered.type_name() in skipped
    assert AppointmentBooked.type_name() not in skipped
    assert AppointmentCancelled.type_name() not in skipped
    assert skipped_types(DirectoryProjection(), registry) is not None


def test_a_name_only_upcast_from_or_unknown_is_never_skipped() -> None:
    upcasting = registry.merged(EventRegistry())

    def to_booked(data: Any) -> dict[str, Any]:
        return dict(data)

    upcasting.upcast(OLD_BOOKED, AppointmentBooked.type_name(), to_booked)
    skipped = skipped_types(AppointmentsProjection(), upcasting)
    assert skipped is not None
    assert OLD_BOOKED not in skipped
    assert "medoffice.scheduling.Teleported.v1" not in skipped


def test_a_projection_that_names_nothing_reads_everything() -> None:
    class ReadsAll:
        name = "all"
        contexts = ("scheduling",)
        collections = ("c",)

        async def apply(self, *_: object) -> None:
            return None

    assert skipped_types(ReadsAll(), registry) is None
