"""Write real audio files with PyAV, made from the real recordings in conftest.

Everything here encodes actual audio (speech from the sample calls) through FFmpeg's encoders, so
the decoder under test sees the same bytes a user's recorder or phone system would produce.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

from callscope.audio.decode import SAMPLE_RATE, decode

# Codec name → container format PyAV should use when the file name alone is ambiguous.
_DEFAULT_CONTAINER = {
    "libopus": "ogg",
    "aac": "ipod",  # .m4a
}


@lru_cache(maxsize=None)
def _clip_16k(path: str) -> np.ndarray:
    """A real recording decoded by callscope itself, mixed down to mono, 16 kHz float32."""
    samples = decode(Path(path)).samples
    mono = samples.mean(axis=0).astype(np.float32)
    mono.setflags(write=False)
    return mono


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample 1-D float32 audio with FFmpeg's resampler (through PyAV)."""
    if from_rate == to_rate:
        return np.array(samples, dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1), format="fltp", layout="mono"
    )
    frame.sample_rate = from_rate
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=to_rate)
    parts = [out.to_ndarray()[0] for out in resampler.resample(frame)]
    parts += [out.to_ndarray()[0] for out in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32)


def load_clip(path: Path, rate: int = SAMPLE_RATE, seconds: float | None = None) -> np.ndarray:
    """A real clip as 1-D float32 mono at `rate` Hz, optionally cut to its first `seconds`."""
    mono = _clip_16k(str(path))
    if seconds is not None:
        mono = mono[: int(seconds * SAMPLE_RATE)]
    return resample(mono, SAMPLE_RATE, rate)


def write_audio(
    path: Path,
    samples: np.ndarray,
    rate: int,
    codec: str,
    container_format: str | None = None,
    layout: str | None = None,
    bit_rate: int | None = None,
    codec_options: dict[str, str] | None = None,
) -> Path:
    """Encode `samples` (shape (channels, n), float32 in [-1, 1]) at `rate` Hz with `codec`.

    PyAV converts the float frames to whatever sample format the encoder takes (u8, s16, s32,
    flt, fltp ...) and re-frames them to the encoder's frame size.
    """
    samples = np.ascontiguousarray(np.atleast_2d(samples), dtype=np.float32)
    channels = samples.shape[0]
    layout = layout or {1: "mono", 2: "stereo"}[channels]
    path = Path(path)
    fmt = container_format or _DEFAULT_CONTAINER.get(codec)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate
        if codec_options:
            stream.codec_context.options = dict(codec_options)
        _encode_audio(container, stream, samples, rate, layout)
    return path


def _encode_audio(container, stream, samples: np.ndarray, rate: int, layout: str, chunk: int = 4096) -> None:
    for start in range(0, samples.shape[1], chunk):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples[:, start : start + chunk]), format="fltp", layout=layout
        )
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def write_video_with_audio(
    path: Path,
    samples: np.ndarray,
    rate: int,
    video_codec: str = "h264",
    frames: int = 8,
    size: tuple[int, int] = (64, 48),
) -> Path:
    """An MP4 whose first stream is a tiny video track (a few frames) and whose second is AAC."""
    samples = np.ascontiguousarray(np.atleast_2d(samples), dtype=np.float32)
    layout = {1: "mono", 2: "stereo"}[samples.shape[0]]
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream(video_codec, rate=2)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=rate, layout=layout)
        width, height = size
        for index in range(frames):
            picture = np.zeros((height, width, 3), dtype=np.uint8)
            picture[:, : (index + 1) * width // frames] = (200, 40 * index % 256, 90)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        _encode_audio(container, audio, samples, rate, layout)
    return path


def write_long_silence_flac(path: Path, hours: float, rate: int = 8000) -> Path:
    """A real FLAC file `hours` long: 8 kHz mono near-silence (a 1-LSB tick once a minute).

    Big FLAC blocks of constant samples encode in a few seconds even for 10 hours.
    """
    minute = np.zeros((1, rate * 60), dtype=np.int16)
    minute[0, rate * 30] = 1
    with av.open(str(path), "w") as container:
        stream = container.add_stream("flac", rate=rate, layout="mono")
        stream.codec_context.options = {"frame_size": "32768"}
        for index in range(int(round(hours * 60))):
            frame = av.AudioFrame.from_ndarray(minute, format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = index * minute.shape[1]
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def wav_header_only(path: Path, rate: int = 16000, channels: int = 1, bits: int = 16) -> Path:
    """A valid RIFF/WAVE file whose data chunk declares and holds 0 samples."""
    block_align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block_align, block_align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 0)
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return Path(path)


def normalised_xcorr(reference: np.ndarray, signal: np.ndarray, max_lag: int = 2000) -> tuple[float, int]:
    """Best normalised cross-correlation of `signal` against `reference` over lags within
    ±`max_lag` samples (codec delay, encoder priming). Returns (correlation, lag)."""
    reference = np.asarray(reference, dtype=np.float64)
    signal = np.asarray(signal, dtype=np.float64)
    n = min(len(reference), len(signal)) - 2 * max_lag
    if n <= 0:
        raise ValueError("signals too short for the lag range")
    ref = reference[max_lag : max_lag + n]
    ref_norm = np.linalg.norm(ref)
    # FFT correlation of the fixed reference window against every shift of the signal.
    size = 1 << int(np.ceil(np.log2(len(signal) + n)))
    spectrum = np.fft.rfft(signal, size) * np.conj(np.fft.rfft(ref, size))
    corr = np.fft.irfft(spectrum, size)[: 2 * max_lag + 1]  # corr[k] = sum ref[i]*signal[i+k]
    energy = np.concatenate([[0.0], np.cumsum(signal**2)])
    windows = np.sqrt(np.maximum(energy[n : n + 2 * max_lag + 1] - energy[: 2 * max_lag + 1], 1e-20))
    scores = corr / (ref_norm * windows + 1e-20)
    best = int(np.argmax(scores))
    return float(scores[best]), best - max_lag
