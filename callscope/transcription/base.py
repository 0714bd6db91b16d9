"""The transcription backend protocol: 16 kHz mono samples in, timed words out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class RecognisedWord:
    text: str  # with Whisper's leading space and attached punctuation
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class RecognisedSegment:
    """A stretch of speech the recogniser returned as one unit (roughly a sentence)."""

    words: tuple[RecognisedWord, ...]
    no_speech_prob: float
    avg_logprob: float
    language: str = ""  # ISO 639-1 of this stretch; "" from backends that only know the call's


@dataclass(frozen=True)
class TranscriptionResult:
    segments: list[RecognisedSegment]
    language: str  # the call's (main) language; each segment may say otherwise


class Transcriber(Protocol):
    name: str

    def transcribe(self, samples: np.ndarray) -> TranscriptionResult:
        """Transcribe 16 kHz float32 mono samples."""
        ...
