"""Every relay of a suite lingers as its backend asks: a twentieth of a second in process, a
quarter on Kafka and MongoDB (where each batch costs every consumer round trips), or what
MEDOFFICE_RELAY_LINGER_SECONDS says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.suite import Suite
from shared.settings import EMBEDDED_LINGER, SCALE_OUT_LINGER, Settings


def test_the_linger_follows_the_backend_unless_set(settings: Settings) -> None:
    expected = SCALE_OUT_LINGER if settings.scale_out else EMBEDDED_LINGER
    assert settings.relay_linger == expected
    assert settings.model_copy(update={"relay_linger_seconds": 0}).relay_linger == 0


async def test_every_relay_of_the_suite_lingers_so(suite: Suite, settings: Settings) -> None:
    relays = [s.relay for s in suite.services if s.relay is not None]
    assert relays
    assert {r.linger for r in [*relays, suite.operations_relay]} == {settings.relay_linger}


@pytest.mark.parametrize("value", ["-1", "6", "soon"])
def test_a_linger_out_of_range_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDOFFICE_RELAY_LINGER_SECONDS", value)
    with pytest.raises(ValidationError):
        Settings()
