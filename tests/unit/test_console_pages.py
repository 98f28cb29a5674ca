"""The console's rebuild progress bar, rendered on the server."""

from __future__ import annotations

from shared.operations.console.pages import rebuild_progress

JOB = {"id": "j1", "projection": "scheduling.directory", "status": "running"}


def test_the_bar_shows_events_done_of_those_in_all() -> None:
    shown = rebuild_progress({**JOB, "events_done": 50, "events_total": 300})
    assert 'value="50" max="300">50 of 300</progress>' in shown


def test_the_bar_is_indeterminate_until_the_total_is_known() -> None:
    assert '<progress data-progress="j1"></progress>' in rebuild_progress(JOB)


def test_a_rebuild_of_no_events_switches_with_a_full_bar() -> None:
    job = {**JOB, "status": "switched", "events_done": 0, "events_total": 0}
    assert 'value="1" max="1">0 of 0</progress>' in rebuild_progress(job)
