"""The level of a stretch of a 16 kHz signal, as callscope's word checks measure it."""

from __future__ import annotations

import numpy as np

from callscope.audio.decode import SAMPLE_RATE


def span_rms(samples: np.ndarray, start: float, end: float, margin: float = 0.0) -> float:
    """RMS of `samples` from `start - margin` to `end + margin` seconds (at least one sample, so a
    zero-length word still measures something); 0.0 where the span lies past the signal."""
    first = max(int((start - margin) * SAMPLE_RATE), 0)
    span = samples[first : max(int((end + margin) * SAMPLE_RATE), first + 1)]
    return float(np.sqrt(np.mean(np.square(span, dtype=np.float64)))) if span.size else 0.0
