"""Registrations: sites, rooms, providers and visit types are created once."""

from __future__ import annotations

import pytest

from services.scheduling.domain import directory
from services.scheduling.domain.events import SiteRegistered, VisitTypeDefined
from shared.domain import Invalid, Rejected

NORTH = directory.RegisterSite(site_id="north", name="North", time_zone="America/New_York")


def test_a_site_is_registered_with_its_time_zone() -> None:
    assert directory.site.decide(directory.site.initial, NORTH) == [
        SiteRegistered(site_id="north", name="North", time_zone="America/New_York")
    ]


def test_registering_the_same_site_again_changes_nothing() -> None:
    state = directory.site.fold(directory.site.decide(directory.site.initial, NORTH))
    assert directory.site.decide(state, NORTH) == []


def test_a_different_site_under_a_taken_id_is_refused() -> None:
    state = directory.site.fold(directory.site.decide(directory.site.initial, NORTH))
    with pytest.raises(Rejected, match="already exists"):
        directory.site.decide(state, NORTH.model_copy(update={"name": "Other"}))


@pytest.mark.parametrize("minutes", [0, 4, 481])
def test_visit_lengths_are_bounded(minutes: int) -> None:
    command = directory.DefineVisitType(visit_type_id="v", name="V", duration_minutes=minutes)
    with pytest.raises(Invalid):
        directory.visit_type.decide(directory.visit_type.initial, command)


def test_a_visit_type_is_defined() -> None:
    command = directory.DefineVisitType(visit_type_id="v", name="V", duration_minutes=20)
    assert directory.visit_type.decide(directory.visit_type.initial, command) == [
        VisitTypeDefined(visit_type_id="v", name="V", duration_minutes=20)
    ]
