"""Speaker embeddings with Resemblyzer's GE2E encoder, run by onnxruntime.

The mel front-end is Resemblyzer's (librosa melspectrogram, n_fft 400, hop 160, 40 Slaney mels,
power 2) rewritten in numpy: it matches librosa to 2e-7, so neither librosa nor torch is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from callscope.models import cpu_session, model_file

MEL_HOP = 160  # 10 ms at 16 kHz
MEL_WINDOW = 400  # 25 ms
MEL_BANDS = 40
PARTIAL_FRAMES = 160  # Resemblyzer embeds 1.6 s partial utterances
EMBEDDING_SIZE = 256
_SAMPLE_RATE = 16000


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    linear, min_log_hz = 200.0 / 3, 1000.0
    log_step = np.log(6.4) / 27.0
    return np.where(
        hz >= min_log_hz, min_log_hz / linear + np.log(np.maximum(hz, 1e-10) / min_log_hz) / log_step, hz / linear
    )


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear, min_log_hz = 200.0 / 3, 1000.0
    log_step = np.log(6.4) / 27.0
    return np.where(mel >= min_log_hz / linear, min_log_hz * np.exp(log_step * (mel - min_log_hz / linear)),
                    linear * mel)


def _mel_filterbank() -> np.ndarray:
    """Slaney mel filters with area normalisation (librosa's defaults)."""
    fft_freqs = np.linspace(0, _SAMPLE_RATE / 2, 1 + MEL_WINDOW // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(_SAMPLE_RATE / 2), MEL_BANDS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    filters = np.maximum(0, np.minimum(-ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]))
    filters *= (2.0 / (edges[2 : MEL_BANDS + 2] - edges[:MEL_BANDS]))[:, None]
    return filters.astype(np.float32)


_FILTERS = _mel_filterbank()
_HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(MEL_WINDOW) / MEL_WINDOW)).astype(np.float32)


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram of 16 kHz audio, after Resemblyzer's volume normalisation."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) + 1e-12
    gain_db = -30.0 - 20 * np.log10(rms)
    if gain_db > 0:  # Resemblyzer raises quiet audio to -30 dBFS, never lowers it
        samples = samples * np.float32(10 ** (gain_db / 20))
    padded = np.pad(np.asarray(samples, dtype=np.float32), (MEL_WINDOW // 2, MEL_WINDOW // 2))
    count = 1 + (len(padded) - MEL_WINDOW) // MEL_HOP
    out = np.empty((count, MEL_BANDS), dtype=np.float32)
    offsets = np.arange(MEL_WINDOW)
    for first in range(0, count, 4096):  # in blocks, so memory stays small on long calls
        starts = MEL_HOP * np.arange(first, min(first + 4096, count))
        frames = padded[starts[:, None] + offsets[None, :]] * _HANN
        out[first : first + len(starts)] = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).astype(np.float32) @ _FILTERS.T
    return out


ENCODER_FILE = "resemblyzer_ge2e.onnx"


class SpeakerEncoder:
    """GE2E encoder: one L2-normalised 256-d embedding per sequence of mel frames."""

    def __init__(self, threads: int = 1, model_dir: Path | None = None) -> None:
        self.session = cpu_session(model_file(ENCODER_FILE, model_dir), threads)

    def embed(self, sequences: list[np.ndarray], partial_step: int = 80, batch: int = 128) -> np.ndarray:
        """Cut each sequence into 1.6 s partials (short ones repeated to fill one), embed them
        all in batches, and average per sequence."""
        partials, owners = [], []
        for index, mels in enumerate(sequences):
            if len(mels) < PARTIAL_FRAMES:
                mels = np.tile(mels, (int(np.ceil(PARTIAL_FRAMES / len(mels))), 1))[:PARTIAL_FRAMES]
            starts = list(range(0, len(mels) - PARTIAL_FRAMES + 1, partial_step))
            if len(mels) - PARTIAL_FRAMES - starts[-1] > partial_step // 2:
                starts.append(len(mels) - PARTIAL_FRAMES)
            partials.extend(mels[start : start + PARTIAL_FRAMES] for start in starts)
            owners.extend([index] * len(starts))
        if not partials:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        # Stacked one batch at a time: all of a long call's partials at once took 120 MB more.
        embeddings = np.concatenate(
            [self.session.run(None, {"mels": np.stack(partials[i : i + batch]).astype(np.float32)})[0]
             for i in range(0, len(partials), batch)]
        )
        summed = np.zeros((len(sequences), embeddings.shape[1]), np.float32)
        np.add.at(summed, np.array(owners), embeddings)
        return summed / (np.linalg.norm(summed, axis=1, keepdims=True) + 1e-9)
