"""A patient's channel consent and preference, on `engagement-patient-<id>`: opt-in and opt-out
per channel, recorded at once. A message goes only on a channel the patient opted in to and has
not opted out of since, whatever was planned before: the deciders that send take the consent
folded at the moment they decide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import AwareDatetime

from services.engagement.domain.events import (
    Channel,
    ChannelOptedIn,
    ChannelOptedOut,
    ChannelPreferenceSet,
    ConsentSource,
)
from shared.domain import Command, Decider, Invalid
from shared.events import DomainEvent


@dataclass(frozen=True)
class Consent:
    opted_in: frozenset[Channel] = frozenset()
    preferred: tuple[Channel, ...] = ()

    def allows(self, channel: Channel) -> bool:
        return channel in self.opted_in

    def channel(self) -> Channel | None:
        """The channel to use: the first preferred one the patient consented to, else the first
        consented one (e-mail before SMS), else none."""
        for channel in (*self.preferred, "email", "sms"):
            if channel in self.opted_in:
                return channel
        return None


class OptIn(Command):
    patient_id: str
    channel: Channel
    source: ConsentSource
    now: AwareDatetime


class OptOut(Command):
    patient_id: str
    channel: Channel
    source: ConsentSource
    now: AwareDatetime


class PreferChannels(Command):
    patient_id: str
    channels: tuple[Channel, ...]
    now: AwareDatetime


ConsentCommand = OptIn | OptOut | PreferChannels


def _evolve(state: Consent, event: DomainEvent) -> Consent:
    match event:
        case ChannelOptedIn(channel=channel):
            return Consent(state.opted_in | {channel}, state.preferred)
        case ChannelOptedOut(channel=channel):
            return Consent(state.opted_in - {channel}, state.preferred)
        case ChannelPreferenceSet(channels=channels):
            return Consent(state.opted_in, channels)
    return state


def _decide(state: Consent, c: ConsentCommand) -> Sequence[DomainEvent]:
    match c:
        case OptIn():
            if state.allows(c.channel):
                return []
            return [ChannelOptedIn(**_fields(c))]
        case OptOut():
            if not state.allows(c.channel):
                return []
            return [ChannelOptedOut(**_fields(c))]
        case PreferChannels():
            if len(set(c.channels)) != len(c.channels):
                raise Invalid("a channel is named twice")
            if c.channels == state.preferred:
                return []
            return [
                ChannelPreferenceSet(
                    patient_id=c.patient_id, channels=c.channels, recorded_at=c.now
                )
            ]


def _fields(c: OptIn | OptOut) -> dict[str, object]:
    return {
        "patient_id": c.patient_id,
        "channel": c.channel,
        "source": c.source,
        "recorded_at": c.now,
    }


consent = Decider[Consent, ConsentCommand](Consent(), _evolve, _decide)
