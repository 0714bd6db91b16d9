"""The diarization backend protocol: who spoke when on one signal (a mono call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from callscope.speakers.assign import SpeakerSegment


@dataclass(frozen=True)
class SpeakerCount:
    """How many speakers to find: `exact`, or (when None) an estimate within [minimum, maximum]."""

    exact: int | None = 2  # calls have two parties
    minimum: int = 1
    maximum: int = 6

    def __post_init__(self) -> None:
        if self.minimum < 1 or self.maximum < self.minimum:
            raise ValueError(f"speaker bounds must satisfy 1 <= min <= max, got {self.minimum}..{self.maximum}")
        if self.exact is not None and self.exact < 1:
            raise ValueError(f"--speakers must be at least 1, got {self.exact}")


class Diarizer(Protocol):
    name: str

    def diarize(self, samples: np.ndarray, count: SpeakerCount) -> list[SpeakerSegment]:
        """Speech segments with speaker labels for 16 kHz float32 mono samples."""
        ...
