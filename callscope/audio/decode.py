"""Decode any call recording to 16 kHz float32 channels with PyAV (FFmpeg bundled in the wheel).

Every way a file can be unusable becomes an `InputError` with one line saying what is wrong.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from callscope.errors import InputError
from callscope.input_files import check_input_file
from callscope.model import AudioSource
from callscope.options import DecodeOptions

SAMPLE_RATE = 16000

# Extensions we try to decode; anything else named explicitly is refused up front.
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".webm",
     ".mkv", ".mov", ".wma", ".amr", ".aiff", ".aif", ".au"}
)

# A decoded length this much shorter than the container promised means the file was cut off.
_TRUNCATION_RATIO = 0.8
_TRUNCATION_MIN_SECS = 2.0


@dataclass
class DecodedAudio:
    source: AudioSource
    samples: np.ndarray  # shape (channels, n), float32 within [-1, 1] (see _within_full_scale), SAMPLE_RATE Hz

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / SAMPLE_RATE


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_readable(path: Path) -> None:
    """Fail early, with a plain reason, on what is not a readable, non-empty audio file."""
    check_input_file(path, "an audio file", AUDIO_EXTENSIONS)


def decode(path: Path, options: DecodeOptions = DecodeOptions(), sha256: str | None = None) -> DecodedAudio:
    check_readable(path)
    name = str(path)
    try:
        container = av.open(name)
    except av.error.FFmpegError as error:
        raise InputError(name, f"not a readable audio file ({_ffmpeg_reason(error)})", "not_audio") from None
    with container:
        if not container.streams.audio:
            raise InputError(name, "has no audio track", "no_audio_track")
        stream = container.streams.audio[0]
        declared = _declared_duration(container, stream)
        if declared is not None and declared > options.max_duration_secs:
            raise InputError(
                name,
                f"too long: {_hms(declared)} exceeds the limit of {_hms(options.max_duration_secs)} "
                "(--max-duration)",
                "too_long",
            )
        channels = stream.codec_context.channels or 1
        samples = _decode_stream(name, container, stream, channels, options.max_duration_secs)
        source = AudioSource(
            path=name,
            sha256=sha256 or file_sha256(path),
            container=container.format.name.split(",")[0],
            codec=stream.codec_context.name,
            sample_rate=stream.codec_context.sample_rate or stream.rate or 0,
            channels=channels,
            duration=samples.shape[1] / SAMPLE_RATE,
        )
    if samples.shape[1] == 0:
        raise InputError(name, "contains no audio samples (zero length)", "zero_length")
    _check_not_truncated(path, declared, source.duration)
    return DecodedAudio(source=source, samples=samples)


def _decode_stream(name: str, container, stream, channels: int, max_secs: float) -> np.ndarray:
    # Resample while decoding so memory holds 16 kHz float32 only, never the source rate.
    resampler = av.AudioResampler(format="fltp", layout=_layout(channels), rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    limit = int(max_secs * SAMPLE_RATE)
    try:
        for frame in container.decode(stream):
            frame.pts = None  # resample by sample count; broken timestamps must not drop audio
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
                total += out.samples
            if total > limit:
                raise InputError(
                    name, f"too long: exceeds the limit of {_hms(max_secs)} (--max-duration)", "too_long"
                )
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    except av.error.FFmpegError as error:
        at = total / SAMPLE_RATE
        raise InputError(
            name, f"corrupt audio data at {at:.1f} s ({_ffmpeg_reason(error)})", "corrupt"
        ) from None
    if not chunks:
        return np.zeros((channels, 0), dtype=np.float32)
    return _within_full_scale(np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32))


def _within_full_scale(samples: np.ndarray) -> np.ndarray:
    """The samples scaled down by their peak when it is past full scale (all channels alike, so their
    balance stays). FFmpeg's float resampler overshoots on loud 8 kHz calls (peaks of 1.01-1.37 on
    the dev set's telephone copies, 1.10 on demo-call.mp3). Measured on the dev set against clipping
    and faster-whisper's s16 decode (bench/bench_asr_vs_plain.py --ablate, docs/BENCHMARKS.md):
    scaling changed one word of 1,251 (mit_hot), clipping changed three files and made jfk_hot two
    words worse, the s16 decode made sample_noise worse than plain faster-whisper."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak > 1.0:
        samples /= peak
    return samples


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def _declared_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _check_not_truncated(path: Path, declared: float | None, decoded: float) -> None:
    promised = _wav_declared_duration(path) if path.suffix.lower() in (".wav", ".wave") else declared
    if promised is None:
        return
    if decoded < promised * _TRUNCATION_RATIO and promised - decoded > _TRUNCATION_MIN_SECS:
        raise InputError(
            str(path),
            f"truncated: the header promises {promised:.1f} s but only {decoded:.1f} s of audio is there",
            "truncated",
        )


def _wav_declared_duration(path: Path) -> float | None:
    """Length the RIFF header promises. FFmpeg derives WAV length from the file size, so a cut-off
    WAV looks complete to it; the data chunk's declared size does not lie."""
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"RIFF":
                return None
            handle.read(4)
            if handle.read(4) != b"WAVE":
                return None
            byte_rate = None
            while True:
                header = handle.read(8)
                if len(header) < 8:
                    return None
                chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
                if chunk_id == b"fmt ":
                    fmt = handle.read(size)
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                    if size % 2:
                        handle.read(1)
                elif chunk_id == b"data":
                    # 0 and 0xFFFFFFFF mark streamed WAVs whose writer never filled in the size.
                    if not byte_rate or size in (0, 0xFFFFFFFF):
                        return None
                    return size / byte_rate
                else:
                    handle.seek(size + (size % 2), os.SEEK_CUR)
    except (OSError, struct.error):
        return None


def _ffmpeg_reason(error: av.error.FFmpegError) -> str:
    return (error.strerror or type(error).__name__).strip().rstrip(".").lower()


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
