"""Channel consent, given events, when a command, then events: opt-in and opt-out per channel
recorded once each, a preference among the consented channels, the channel a message takes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.engagement.domain.consent import (
    Consent,
    OptIn,
    OptOut,
    PreferChannels,
    consent,
)
from services.engagement.domain.events import (
    ChannelOptedIn,
    ChannelOptedOut,
    ChannelPreferenceSet,
)
from shared.domain import Invalid

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SMS_IN = ChannelOptedIn(patient_id="pt-1", channel="sms", source="front_desk", recorded_at=NOW)
EMAIL_IN = ChannelOptedIn(patient_id="pt-1", channel="email", source="patient", recorded_at=NOW)


def test_opt_in_and_out_are_recorded_at_once_and_once() -> None:
    opt_out = OptOut(patient_id="pt-1", channel="sms", source="reply", now=NOW)
    out = consent.decide(consent.fold([SMS_IN]), opt_out)
    assert out == [
        ChannelOptedOut(patient_id="pt-1", channel="sms", source="reply", recorded_at=NOW)
    ]
    assert consent.fold([SMS_IN, *out]) == Consent()
    assert consent.decide(consent.fold([SMS_IN, *out]), opt_out) == []
    opt_in = OptIn(patient_id="pt-1", channel="sms", source="link", now=NOW)
    assert consent.decide(consent.fold([SMS_IN]), opt_in) == []


def test_the_channel_is_the_first_preferred_one_consented_to() -> None:
    assert Consent().channel() is None
    assert consent.fold([SMS_IN]).channel() == "sms"
    assert consent.fold([SMS_IN, EMAIL_IN]).channel() == "email"  # e-mail before SMS
    prefer = PreferChannels(patient_id="pt-1", channels=("sms", "email"), now=NOW)
    preferred = consent.decide(consent.fold([SMS_IN, EMAIL_IN]), prefer)
    assert preferred == [
        ChannelPreferenceSet(patient_id="pt-1", channels=("sms", "email"), recorded_at=NOW)
    ]
    assert consent.fold([SMS_IN, EMAIL_IN, *preferred]).channel() == "sms"
    # a preferred channel the patient opted out of is passed over
    sms_out = ChannelOptedOut(patient_id="pt-1", channel="sms", source="reply", recorded_at=NOW)
    assert consent.fold([SMS_IN, EMAIL_IN, *preferred, sms_out]).channel() == "email"
    assert consent.decide(consent.fold([*preferred]), prefer) == []


def test_a_preference_names_each_channel_once() -> None:
    with pytest.raises(Invalid):
        consent.decide(
            consent.initial,
            PreferChannels(patient_id="pt-1", channels=("sms", "sms"), now=NOW),
        )
