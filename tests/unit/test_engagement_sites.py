"""A site of scheduling's, learnt as engagement's own event: once per event it came from, and
nothing for the same name and zone again; a new zone is learnt."""

from __future__ import annotations

from services.engagement.domain.events import SiteLearnt
from services.engagement.domain.sites import LearnSite, site

LEARN = LearnSite(site_id="north", name="North", time_zone="America/New_York", learnt_from="e1")
LEARNT = SiteLearnt(site_id="north", name="North", time_zone="America/New_York", learnt_from="e1")


def test_a_site_is_learnt_once_per_event_and_again_when_its_zone_changes() -> None:
    assert site.decide(site.fold([]), LEARN) == [LEARNT]
    assert site.decide(site.fold([LEARNT]), LEARN) == []  # redelivered
    same = LEARN.model_copy(update={"learnt_from": "e2"})
    assert site.decide(site.fold([LEARNT]), same) == []  # registered again, unchanged
    moved = LEARN.model_copy(update={"learnt_from": "e3", "time_zone": "America/Chicago"})
    [learnt] = site.decide(site.fold([LEARNT]), moved)
    assert site.fold([LEARNT, learnt]).time_zone == "America/Chicago"
    assert site.fold([]).time_zone is None
