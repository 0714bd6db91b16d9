"""Speakers from channels: on a multi-channel call each channel is one participant.

Mono calls, and files whose channels all carry the same signal, get one speaker here (the mono
diarizer splits it later); the output says so rather than inventing a second speaker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callscope.audio.decode import DecodedAudio
from callscope.model import Role, Separation, Speaker
from callscope.options import SpeakerOptions

MONO_DISPLAY_NAME = "Speaker (mono, not diarized)"


@dataclass
class SpeakerTrack:
    """The signal in which one speaker is heard, to transcribe and to measure loudness on."""

    speaker: Speaker
    samples: np.ndarray  # 1-D float32, 16 kHz


@dataclass
class SpeakerLayout:
    tracks: list[SpeakerTrack]
    separation: Separation  # "diarization" is set by the diarizing stage
    warnings: list[str]


def split_speakers(audio: DecodedAudio, options: SpeakerOptions = SpeakerOptions()) -> SpeakerLayout:
    samples = audio.samples
    warnings: list[str] = []
    if samples.shape[0] == 1:
        return _single_speaker(samples[0], warnings)
    if is_fake_stereo(samples, options.fake_stereo_db):
        every = "both" if samples.shape[0] == 2 else f"all {samples.shape[0]}"
        warnings.append(f"{every} channels carry the same signal: treated as mono (one speaker) "
                        "so no line appears twice")
        return _single_speaker(samples.mean(axis=0), warnings)

    roles_by_channel = {definition.channel: definition.role for definition in options.channels}
    missing = [channel for channel in roles_by_channel if channel >= samples.shape[0]]
    if missing:
        warnings.append(f"channel definitions name channel(s) {missing} the file does not have")
    # Every channel is accounted for: one the definitions do not name is still a participant (a
    # conference bridge, a supervisor), analysed as a speaker of unknown role, or said to be silent.
    tracks, unnamed = [], []
    for channel in range(samples.shape[0]):
        role = roles_by_channel.get(channel, Role.UNKNOWN)
        silent = not np.any(np.abs(samples[channel]) > 1e-4)
        if channel not in roles_by_channel:
            if silent:
                warnings.append(f"channel {channel} is silent and has no role in the channel definitions: not analysed")
                continue
            unnamed.append(channel)
        elif silent:
            warnings.append(f"channel {channel} ({role.display_name}) is silent")
        # As the reference system labels channel jobs: channel N is spk_N.
        speaker = Speaker(label=f"spk_{channel}", role=role, channel=channel)
        tracks.append(SpeakerTrack(speaker, samples[channel]))
    if unnamed:
        warnings.append(
            f"channel(s) {unnamed} have no role in the channel definitions (--channels): each is analysed as a "
            "speaker of unknown role"
        )
    return SpeakerLayout(tracks=tracks, separation="channels", warnings=warnings)


def is_fake_stereo(samples: np.ndarray, threshold_db: float) -> bool:
    """True when every channel is (nearly) the same signal: each one's difference from the first
    channel is `threshold_db` quieter than the louder of the two."""
    first = samples[0].astype(np.float64)
    return all(_same_signal(first, other.astype(np.float64), threshold_db) for other in samples[1:])


def _same_signal(left: np.ndarray, right: np.ndarray, threshold_db: float) -> bool:
    louder = max(np.sum(left**2), np.sum(right**2))
    if louder == 0.0:
        return True
    difference = np.sum((left - right) ** 2)
    return bool(difference == 0.0 or 10 * np.log10(louder / difference) >= threshold_db)


def _single_speaker(signal: np.ndarray, warnings: list[str]) -> SpeakerLayout:
    speaker = Speaker(label="spk_0", role=Role.UNKNOWN, channel=None, display_name=MONO_DISPLAY_NAME)
    return SpeakerLayout(
        tracks=[SpeakerTrack(speaker, np.ascontiguousarray(signal, dtype=np.float32))],
        separation="none",
        warnings=warnings,
    )
