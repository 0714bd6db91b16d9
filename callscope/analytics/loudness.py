"""Loudness per second of a segment, on the scale of Transcribe Call Analytics' LoudnessScores.

Transcribe reports speech around 60-80 and silence near 0. We report the RMS level in dB above
-100 dBFS (so full scale is 100 and normal telephone speech at -25 dBFS is 75), clipped to [0, 100].
"""

from __future__ import annotations

import math

import numpy as np

from callscope.audio.decode import SAMPLE_RATE

_FLOOR_DBFS = -100.0


def loudness_per_second(samples: np.ndarray, start: float, end: float) -> list[float]:
    """One score per started second of [start, end), measured on the speaker's own signal."""
    scores = []
    seconds = max(1, math.ceil(end - start - 1e-6))
    for index in range(seconds):
        first = int((start + index) * SAMPLE_RATE)
        last = int(min(start + index + 1, end) * SAMPLE_RATE)
        window = samples[first : max(last, first + 1)]
        if window.size == 0:
            break
        rms = float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))
        level = 20 * math.log10(rms) - _FLOOR_DBFS if rms > 0 else 0.0
        scores.append(round(min(max(level, 0.0), 100.0), 2))
    return scores
