"""callscope.audio.decode.decode over a matrix of real encodings of real speech.

Each file is the JFK clip (and, for stereo, 11 s of the pyannote sample on the right channel)
encoded with FFmpeg's own encoders through PyAV, then decoded by callscope. The decoded signal
must be the same speech: same length, same channel order, and highly correlated with the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from callscope.audio.decode import SAMPLE_RATE, decode
from tests import conftest
from tests.audio_factory import load_clip, normalised_xcorr, write_audio, write_video_with_audio

CLIP_SECS = 11.0


@dataclass(frozen=True)
class Case:
    id: str
    suffix: str
    codec: str  # encoder
    rate: int
    channels: int
    decoder: str  # codec name decode() must report
    container: str  # container name decode() must report
    lossless: bool
    container_format: str | None = None
    reported_rate: int | None = None  # when the decoder runs at another rate than the input's
    video: bool = False


CASES = [
    # WAV, every PCM sample format, every sample rate, mono and stereo.
    Case("wav-u8-8k-mono", ".wav", "pcm_u8", 8000, 1, "pcm_u8", "wav", True),
    Case("wav-u8-22k-stereo", ".wav", "pcm_u8", 22050, 2, "pcm_u8", "wav", True),
    Case("wav-s16-8k-mono", ".wav", "pcm_s16le", 8000, 1, "pcm_s16le", "wav", True),
    Case("wav-s16-16k-stereo", ".wav", "pcm_s16le", 16000, 2, "pcm_s16le", "wav", True),
    Case("wav-s16-44k-mono", ".wav", "pcm_s16le", 44100, 1, "pcm_s16le", "wav", True),
    Case("wav-s24-22k-mono", ".wav", "pcm_s24le", 22050, 1, "pcm_s24le", "wav", True),
    Case("wav-s24-48k-stereo", ".wav", "pcm_s24le", 48000, 2, "pcm_s24le", "wav", True),
    Case("wav-s32-16k-mono", ".wav", "pcm_s32le", 16000, 1, "pcm_s32le", "wav", True),
    Case("wav-s32-44k-stereo", ".wav", "pcm_s32le", 44100, 2, "pcm_s32le", "wav", True),
    Case("wav-f32-48k-mono", ".wav", "pcm_f32le", 48000, 1, "pcm_f32le", "wav", True),
    Case("wav-f32-8k-stereo", ".wav", "pcm_f32le", 8000, 2, "pcm_f32le", "wav", True),
    # MP3 (libmp3lame; FFmpeg decodes with mp3float).
    Case("mp3-8k-mono", ".mp3", "libmp3lame", 8000, 1, "mp3float", "mp3", False),
    Case("mp3-22k-mono", ".mp3", "libmp3lame", 22050, 1, "mp3float", "mp3", False),
    Case("mp3-44k-stereo", ".mp3", "libmp3lame", 44100, 2, "mp3float", "mp3", False),
    Case("mp3-48k-mono", ".mp3", "libmp3lame", 48000, 1, "mp3float", "mp3", False),
    # FLAC.
    Case("flac-8k-mono", ".flac", "flac", 8000, 1, "flac", "flac", True),
    Case("flac-16k-stereo", ".flac", "flac", 16000, 2, "flac", "flac", True),
    Case("flac-44k-stereo", ".flac", "flac", 44100, 2, "flac", "flac", True),
    # Ogg/Opus: Opus always decodes at 48 kHz whatever rate it was fed, and FFmpeg reports that.
    Case("opus-8k-mono", ".ogg", "libopus", 8000, 1, "opus", "ogg", False, "ogg", reported_rate=48000),
    Case("opus-16k-stereo", ".opus", "libopus", 16000, 2, "opus", "ogg", False, "ogg", reported_rate=48000),
    Case("opus-48k-stereo", ".ogg", "libopus", 48000, 2, "opus", "ogg", False, "ogg"),
    # AAC in .m4a (mp4/ipod container).
    Case("m4a-8k-mono", ".m4a", "aac", 8000, 1, "aac", "mov", False, "ipod"),
    Case("m4a-22k-stereo", ".m4a", "aac", 22050, 2, "aac", "mov", False, "ipod"),
    Case("m4a-44k-mono", ".m4a", "aac", 44100, 1, "aac", "mov", False, "ipod"),
    Case("m4a-48k-stereo", ".m4a", "aac", 48000, 2, "aac", "mov", False, "ipod"),
    # The AAC track of an MP4 whose first stream is video.
    Case("mp4-h264-aac-44k-stereo", ".mp4", "h264", 44100, 2, "aac", "mov", False, video=True),
    Case("mp4-mpeg4-aac-16k-mono", ".mp4", "mpeg4", 16000, 1, "aac", "mov", False, video=True),
]


@pytest.fixture(scope="module")
def references() -> list[np.ndarray]:
    """What each channel should decode to, at 16 kHz: JFK left (or mono), pyannote right."""
    left = load_clip(conftest.JFK)
    right = load_clip(conftest.PYANNOTE_SAMPLE, seconds=CLIP_SECS)
    assert len(left) == len(right) == int(CLIP_SECS * SAMPLE_RATE)
    # Different speech on each side, so a swapped or duplicated channel cannot pass.
    assert normalised_xcorr(left, right)[0] < 0.3
    return [left, right]


def _source_signal(rate: int, channels: int) -> np.ndarray:
    sides = [load_clip(conftest.JFK, rate), load_clip(conftest.PYANNOTE_SAMPLE, rate, seconds=CLIP_SECS)]
    n = min(len(side) for side in sides[:channels])
    return np.stack([side[:n] for side in sides[:channels]])


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_decode_format_matrix(case: Case, references, tmp_path: Path) -> None:
    signal = _source_signal(case.rate, case.channels)
    path = tmp_path / f"call{case.suffix}"
    if case.video:
        write_video_with_audio(path, signal, case.rate, video_codec=case.codec)
    else:
        write_audio(path, signal, case.rate, case.codec, case.container_format)

    decoded = decode(path)

    source = decoded.source
    assert source.path == str(path)
    assert source.codec == case.decoder
    assert source.container == case.container
    assert source.sample_rate == (case.reported_rate or case.rate)
    assert source.channels == case.channels
    assert len(source.sha256) == 64
    assert decoded.samples.dtype == np.float32
    assert decoded.samples.ndim == 2 and decoded.samples.shape[0] == case.channels
    assert abs(decoded.duration - CLIP_SECS) < 0.1
    assert source.duration == pytest.approx(decoded.duration)
    assert float(np.abs(decoded.samples).max()) <= 1.0 + 1e-6

    threshold = 0.9 if case.lossless else 0.6
    for channel in range(case.channels):
        score, lag = normalised_xcorr(references[channel], decoded.samples[channel])
        assert score > threshold, f"channel {channel}: correlation {score:.3f} at lag {lag}"
        assert abs(lag) < 1600  # codec delay is compensated to well under 0.1 s
    if case.channels == 2:
        # Channel order is kept: the left channel does not look like the right reference.
        crossed, _ = normalised_xcorr(references[1], decoded.samples[0])
        assert crossed < 0.3


def test_video_is_first_stream_yet_audio_is_decoded(tmp_path: Path) -> None:
    import av

    path = write_video_with_audio(tmp_path / "meeting.mp4", _source_signal(44100, 1), 44100, frames=6)
    with av.open(str(path)) as container:
        assert [stream.type for stream in container.streams] == ["video", "audio"]
        assert container.streams.video[0].frames == 6
    decoded = decode(path)
    assert decoded.source.codec == "aac"
    assert decoded.samples.shape[0] == 1


def test_pca_sample_8bit_unsigned_8k_mono() -> None:
    decoded = decode(conftest.PCA_MONO)
    assert decoded.source.codec == "pcm_u8"
    assert decoded.source.sample_rate == 8000
    assert decoded.source.channels == 1
    assert decoded.source.container == "wav"
    assert decoded.duration == pytest.approx(277.66, abs=0.01)
    assert decoded.samples.shape == (1, round(277.66 * SAMPLE_RATE))
    # 8-bit unsigned PCM is centred on 128: decoded silence must be centred on 0, not +0.5/-0.5.
    assert abs(float(np.median(decoded.samples))) < 0.02
    assert 0.05 < float(np.abs(decoded.samples).max()) <= 1.0


def test_real_jfk_flac_reports_its_source_format() -> None:
    decoded = decode(conftest.JFK)
    assert (decoded.source.codec, decoded.source.sample_rate, decoded.source.channels) == ("flac", 44100, 2)
    assert decoded.samples.shape == (2, int(CLIP_SECS * SAMPLE_RATE))
