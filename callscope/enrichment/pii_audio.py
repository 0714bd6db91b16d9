"""Redacted audio: a copy of the recording with every PII word silenced (or beeped), all channels.

The spans come from the redacted words' timestamps (`redacted_time_spans`), padded because word
boundaries from ASR are approximate. The output is WAV, 16-bit PCM, at the source's own sample rate
and channel count; the source is decoded and written frame by frame, so a long call never sits in
memory whole.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from callscope.audio.decode import check_readable
from callscope.errors import InputError
from callscope.model import Conversation
from callscope.options import AudioRedaction

MODES = ("silence", "beep")
DEFAULT_PADDING_SECS = 0.05
BEEP_HZ = 1000.0
BEEP_LEVEL = 0.3  # of full scale: clearly audible, not painful
_INT16_MAX = 32767


@dataclass(frozen=True)
class RedactedAudio:
    path: Path
    sample_rate: int
    channels: int
    duration: float
    spans: tuple[tuple[float, float], ...]  # what was silenced or beeped, padded and merged, seconds


def write_redacted_audio(
    source_path: str | Path,
    spans: list[tuple[float, float]],
    target_path: str | Path,
    mode: AudioRedaction = AudioRedaction.SILENCE,
    padding: float = DEFAULT_PADDING_SECS,
) -> RedactedAudio:
    """Write `target_path` (WAV, 16-bit PCM, the source's sample rate and channels) with every
    (start, end) span of `source_path`, widened by `padding` seconds each side, silenced or
    replaced by a 1 kHz tone."""
    if mode not in MODES:
        raise ValueError(f"redaction mode {mode!r} is not one of {', '.join(MODES)}")
    source, target = Path(source_path), Path(target_path)
    check_readable(source)
    merged = merge_spans(spans, padding)
    try:
        container = av.open(str(source))
    except av.error.FFmpegError as error:
        raise InputError(str(source), f"not a readable audio file ({error.strerror or type(error).__name__})",
                         "not_audio") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    with container, wave.open(str(target), "wb") as output:
        if not container.streams.audio:
            raise InputError(str(source), "has no audio track", "no_audio_track")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        channels = stream.codec_context.channels or 1
        output.setnchannels(channels)
        output.setsampwidth(2)
        output.setframerate(rate)
        # Planar int16 at the source rate and layout: only the sample format changes.
        resampler = av.AudioResampler(format="s16p", layout=stream.codec_context.layout.name, rate=rate)
        position = 0
        for frame in container.decode(stream):
            frame.pts = None
            for out in resampler.resample(frame):
                position = _write(output, out.to_ndarray(), position, rate, merged, mode)
        for out in resampler.resample(None):
            position = _write(output, out.to_ndarray(), position, rate, merged, mode)
    return RedactedAudio(target, rate, channels, position / rate, tuple(merged))


def redact_audio(conversation: Conversation, target_path: str | Path, mode: AudioRedaction = AudioRedaction.SILENCE,
                 padding: float = DEFAULT_PADDING_SECS, token: str = "[PII]") -> RedactedAudio:
    """The redacted copy of a conversation's recording, for the words PiiRedactor replaced with `token`."""
    from callscope.enrichment.pii.redact import redacted_time_spans

    return write_redacted_audio(conversation.source.path, redacted_time_spans(conversation, token), target_path,
                                mode, padding)


def merge_spans(spans: list[tuple[float, float]], padding: float = 0.0) -> list[tuple[float, float]]:
    """Spans widened by `padding` (never before 0), sorted, overlapping ones joined."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted((max(0.0, start - padding), end + padding) for start, end in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _write(output: wave.Wave_write, samples: np.ndarray, position: int, rate: int,
           spans: list[tuple[float, float]], mode: AudioRedaction) -> int:
    """Redact the spans inside samples[:, position...] and append them; return the next position."""
    count = samples.shape[1]
    samples = np.array(samples, dtype="<i2", copy=True)  # WAV is little-endian
    for start, end in spans:
        first = max(int(round(start * rate)) - position, 0)
        last = min(int(round(end * rate)) - position, count)
        if first >= last:
            continue
        if mode == AudioRedaction.SILENCE:
            samples[:, first:last] = 0
        else:
            # Phase follows the absolute sample index, so a tone split across frames stays clean.
            index = np.arange(position + first, position + last)
            tone = BEEP_LEVEL * _INT16_MAX * np.sin(2 * np.pi * BEEP_HZ * index / rate)
            samples[:, first:last] = np.round(tone).astype(np.int16)
    output.writeframes(np.ascontiguousarray(samples.T).tobytes())
    return position + count
