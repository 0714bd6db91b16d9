"""Decoded samples never exceed full scale (issue 15): a float resample of a loud 8 kHz call
overshoots past 1.0 (up to 1.10 on demo-call.mp3, 1.37 on a clipped mu-law line), which changes what
Whisper hears; faster-whisper's own decode_audio never goes past it. callscope's decode scales such a
call down by its peak (the bounded decode measured no worse on the dev set: docs/BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callscope.audio.decode import decode
from tests import conftest
from tests.audio_factory import load_clip, write_audio


@pytest.mark.parametrize("path", [conftest.DEMO_CALL, conftest.AUTO_REPAIRS], ids=["demo-call.mp3", "auto-repairs.wav"])
def test_loud_real_8k_calls_stay_within_full_scale(path: Path) -> None:
    samples = decode(path).samples
    assert float(np.abs(samples).max()) <= 1.0
    assert float(np.abs(samples).max()) > 0.9  # still loud: nothing was turned down for it


@pytest.mark.parametrize("codec", ["pcm_mulaw", "pcm_u8", "pcm_s16le"])
def test_speech_driven_past_full_scale_at_8k_stays_within_it(tmp_path: Path, codec: str) -> None:
    # Real speech, 8 kHz, 6 dB too hot and clipped by the writer: square-topped waves, the worst case
    # for a resampler's overshoot.
    speech = load_clip(conftest.JFK, rate=8000, seconds=4.0)
    hot = np.clip(speech / np.abs(speech).max() * 2.0, -1.0, 1.0).astype(np.float32)
    path = write_audio(tmp_path / "hot.wav", hot[None, :], 8000, codec, "wav")
    samples = decode(path).samples
    assert float(np.abs(samples).max()) <= 1.0
    assert float(np.abs(samples).max()) > 0.95


def test_stereo_8k_mp3_stays_within_full_scale_per_channel(tmp_path: Path) -> None:
    speech = load_clip(conftest.JFK, rate=8000, seconds=4.0)
    hot = np.clip(speech / np.abs(speech).max() * 2.0, -1.0, 1.0).astype(np.float32)
    path = write_audio(tmp_path / "hot.mp3", np.stack([hot, hot[::-1].copy()]), 8000, "libmp3lame", "mp3",
                       bit_rate=32000)
    samples = decode(path).samples
    assert samples.shape[0] == 2
    assert float(np.abs(samples).max()) <= 1.0
