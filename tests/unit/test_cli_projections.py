"""Following a rebuild from the CLI: Ctrl-C cancels it when so asked, else it is followed on."""

from __future__ import annotations

import io
from typing import Any

import pytest

from services import cli_projections
from services.cli_projections import _until_ended

RUNNING = {"id": "r1", "status": "running", "events_done": 0, "events_total": 10}


class Suite:
    """The suite's answers, in order; the first look is interrupted by Ctrl-C."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str]] = []
        self.interrupted = False

    def get(self, path: str, **params: Any) -> Any:
        self.calls.append(("GET", path))
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return self.answers.pop(0)

    def delete(self, path: str) -> Any:
        self.calls.append(("DELETE", path))
        return self.answers.pop(0)


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_projections, "POLL", 0.0)


def test_ctrl_c_cancels_when_asked_to_on_interrupt() -> None:
    suite = Suite({**RUNNING, "cancelled_by": "me"}, {**RUNNING, "status": "cancelled"})
    shown: list[dict[str, Any]] = []
    job = _until_ended(suite, RUNNING, True, shown.append)
    assert job["status"] == "cancelled"
    assert suite.calls == [
        ("GET", "/ops/rebuilds/r1"),
        ("DELETE", "/ops/rebuilds/r1"),
        ("GET", "/ops/rebuilds/r1"),
    ]
    assert shown[-1] == job


def test_ctrl_c_with_no_one_to_answer_follows_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())  # nothing to read an answer from
    suite = Suite({**RUNNING, "events_done": 10, "status": "switched"})
    job = _until_ended(suite, RUNNING, False, lambda _: None)
    assert job["status"] == "switched"
    assert ("DELETE", "/ops/rebuilds/r1") not in suite.calls
