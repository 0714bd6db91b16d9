"""Where there is speech: faster-whisper's Silero VAD, run on a copy of the signal at a set level.

Silero's speech probabilities depend on the input level (issue 15, measured with
bench/bench_vad_level.py on the dev set of bench/devset.py): on the full-scale 8 kHz mu-law and
8-bit copies of a 30 s clip of continuous speech it kept 10.0 s and 7.5 s; the same samples scaled
to a peak of 0.25 kept 28.9 s and 29.2 s. Very quiet input loses speech too (the pyannote sample's
mu-law copy at a peak of 0.003: 12.0 s of 22.7 s). Scaling each signal's level to one value before
the VAD makes its decisions the same for a loud and a quiet recording of one call; the signal
itself (what Whisper hears, what is written) is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callscope.audio.decode import SAMPLE_RATE

# The level the VAD sees: the signal's loud samples (LOUD_PERCENTILE of |x|) at this amplitude.
# Measured on the dev set (docs/bench-results-vad-level.json): at 0.06-0.125 the MIT clip's loud
# telephone copies keep 29.1-29.5 s of its 29.5 s of speech; at 0.25 they lose 0.6-4 s, at 1.0 up to
# 22 s; at 0.03 the JFK copies start losing (9.8 of 10.3 s). Noise, a tone and music: 0 s at every level.
TARGET_LEVEL = 0.1
# A percentile, not the peak, so that one click or a clipped burst does not set the level.
LOUD_PERCENTILE = 99.9
# At most this much gain (+26 dB): a channel of line hiss or near-digital silence is not raised to
# speech level.
MAX_GAIN = 20.0


@dataclass(frozen=True)
class SpeechChunk:
    """One stretch of speech, in samples of the 16 kHz signal (faster-whisper's chunk dicts)."""

    start: int
    end: int

    def as_dict(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end}


def vad_level_gain(samples: np.ndarray) -> float:
    """The gain that brings the signal's loud samples to TARGET_LEVEL (1.0 for a silent signal)."""
    if samples.size == 0:
        return 1.0
    loud = float(np.percentile(np.abs(samples), LOUD_PERCENTILE))
    if loud <= 0.0:
        return 1.0
    return min(TARGET_LEVEL / loud, MAX_GAIN)


def speech_chunks(samples: np.ndarray, **vad_options: float) -> list[SpeechChunk]:
    """Silero VAD (faster-whisper's, with its VadOptions overridden by `vad_options`) on the signal
    brought to the VAD's level; the chunks index the signal as given."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    levelled = np.ascontiguousarray(samples * vad_level_gain(samples), dtype=np.float32)
    found = get_speech_timestamps(levelled, VadOptions(**vad_options), sampling_rate=SAMPLE_RATE)
    return [SpeechChunk(int(item["start"]), int(item["end"])) for item in found if item["end"] > item["start"]]
