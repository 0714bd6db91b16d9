"""Writing 16-bit PCM WAV files from float samples (test clips, benchmark sets, synthetic calls)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

_INT16_MAX = 32767


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float samples in [-1, 1] (shape (n,) for mono, or (channels, n)) as a 16-bit PCM WAV;
    values beyond full scale are clipped."""
    samples = np.atleast_2d(samples)
    pcm = (np.clip(samples, -1, 1) * _INT16_MAX).astype("<i2")  # WAV is little-endian
    with wave.open(str(path), "wb") as output:
        output.setnchannels(samples.shape[0])
        output.setsampwidth(2)
        output.setframerate(sample_rate)
        output.writeframes(np.ascontiguousarray(pcm.T).tobytes())
    return Path(path)
