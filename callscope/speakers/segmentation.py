"""pyannote's segmentation-3.0 (ONNX, shipped in callscope.models): which of up to 3 local speakers
talk in each frame of 10 s windows, overlapped speech included.

It is the embedded diarizer's first step, and the speech detector of each party's channel
(`speech_spans`): on the one gold channel file (the pyannote sample, one party per channel) Silero
VAD missed 3.3 s of 22.5 s of speech, short turns such as the opening "Hello?", where this model
missed 0.1 s; on the demo call's customer channel it found 28 s of loud speech (-11 to -23 dBFS,
the other channel silent) that Silero did not (docs/BENCHMARKS.md, "Channel speech").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from callscope.model import TimeSpan
from callscope.models import cpu_session, model_file

RATE = 16000
WINDOW = 10 * RATE
FRAME_STEP = 270  # samples between segmentation frames
RECEPTIVE_FIELD = 721  # samples one frame sees
SEGMENTATION_FILE = "segmentation-3.0.onnx"
# Powerset classes of segmentation-3.0: {}, {1}, {2}, {3}, {1,2}, {1,3}, {2,3}.
_POWERSET = np.array(
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=np.float32
)
# Windows every 5 s for speech alone (each frame seen by two windows): on the sample's channels
# 9.8% DER against 9.0% at 2.5 s and 8.9% at 1 s, at a fifth of the 1 s step's time.
SPEECH_STEP_SECS = 5.0


class Segmentation:
    def __init__(self, threads: int | None = 1, model_dir: Path | None = None, batch: int = 4) -> None:
        self.session = cpu_session(model_file(SEGMENTATION_FILE, model_dir), threads)
        self.batch = batch

    def windows(self, signal: np.ndarray, step_secs: float) -> tuple[np.ndarray, np.ndarray]:
        """Window starts (samples) and hard activity (windows, frames, 3 local speakers)."""
        step = int(round(step_secs * RATE))
        if len(signal) <= WINDOW:
            starts = np.array([0])
        else:  # a regular grid plus a last window flush with the end: no padded audio
            starts = np.unique(np.append(np.arange(0, len(signal) - WINDOW, step), len(signal) - WINDOW))
        outputs = []
        for first in range(0, len(starts), self.batch):
            group = starts[first : first + self.batch]
            chunk = np.zeros((len(group), 1, WINDOW), np.float32)
            for row, start in enumerate(group):
                piece = signal[start : start + WINDOW]
                chunk[row, 0, : len(piece)] = piece
            outputs.append(self.session.run(None, {"input": chunk})[0])
        return starts, _POWERSET[np.argmax(np.concatenate(outputs), axis=-1)]

    def speech_spans(self, samples: np.ndarray, step_secs: float = SPEECH_STEP_SECS) -> list[TimeSpan]:
        """Where anyone speaks in one signal (16 kHz): the frames at least half the windows over them
        hear someone in, as pyannote's voice activity detection reads this model."""
        signal = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(signal) < RECEPTIVE_FIELD:
            return []
        starts, activity = self.windows(signal, step_secs)
        heard = window_average(len(signal), starts, activity.max(-1, keepdims=True))[:, 0] >= 0.5
        return frame_spans(heard, len(signal))


@lru_cache(maxsize=2)
def shared_segmentation(threads: int | None) -> Segmentation:
    """The installed model, loaded once per process (and thread count) for the speech of channels."""
    return Segmentation(threads)


class WindowAverage:
    """Per-window frame values (frames, k), added one window at a time, averaged over the windows that
    cover each frame of a signal `length` samples long: memory for the call's frames, not all windows'."""

    def __init__(self, length: int, frames: int, width: int) -> None:
        self.length, self.frames = length, frames
        grid = int(np.ceil(length / FRAME_STEP)) + 1 + frames
        self.total = np.zeros((grid, width), np.float32)
        self.coverage = np.zeros(grid, np.float32)

    def add(self, start: int, values: np.ndarray) -> None:
        offset = int(round(start / FRAME_STEP))
        inside = min(self.frames, int(np.ceil((self.length - start) / FRAME_STEP)))
        self.total[offset : offset + inside] += values[:inside]
        self.coverage[offset : offset + inside] += 1

    def mean(self) -> np.ndarray:
        """(frames of the signal, k)."""
        covered = self.coverage > 0
        return self.total[covered] / self.coverage[covered, None]


def window_average(length: int, starts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` (windows, frames, k) averaged with WindowAverage."""
    average = WindowAverage(length, values.shape[1], values.shape[2])
    for window, start in enumerate(starts):
        average.add(start, values[window])
    return average.mean()


def frame_spans(active: np.ndarray, length: int) -> list[TimeSpan]:
    """The runs of active frames as time spans (seconds), each frame at the centre of what it sees."""
    half_frame = FRAME_STEP / RATE / 2
    centre = RECEPTIVE_FIELD // 2
    edges = np.diff(np.concatenate([[0], active.astype(int), [0]]))
    spans = []
    for on, off in zip(np.where(edges == 1)[0], np.where(edges == -1)[0]):
        start = max(0.0, (on * FRAME_STEP + centre) / RATE - half_frame)
        end = min(length / RATE, (off * FRAME_STEP + centre) / RATE - half_frame)
        if end > start:
            spans.append(TimeSpan(round(start, 3), round(end, 3)))
    return spans
