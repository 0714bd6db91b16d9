"""A speech recognition configuration under test: what it is (recorded on the leaderboard) and how
it turns one recording into timed text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from callscope.evaluation.words import ReferenceSegment

# Settings left out of labels when they have these values (`callscope analyze`'s defaults).
ENGINE_DEFAULTS: dict[str, dict[str, Any]] = {
    "faster-whisper": {"beam_size": 5, "vad": True, "compute_type": "int8", "language": "en", "diarizer": "embedded"},
}


@dataclass(frozen=True)
class AsrSettings:
    """A configuration as the leaderboard records it: same settings, same row."""

    engine: str  # "faster-whisper", "amazon-transcribe"
    model: str  # "tiny.en", "base", a model directory; "standard" or a custom language model for Transcribe
    settings: dict[str, Any] = field(default_factory=dict)  # beam size, VAD, compute type, vocabulary, ...

    def fingerprint(self) -> str:
        blob = json.dumps({"engine": self.engine, "model": self.model, "settings": self.settings},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def label(self) -> str:
        """A short human name: the model, and the settings that differ from the engine's defaults."""
        defaults = ENGINE_DEFAULTS.get(self.engine, {})
        parts = [f"{key}={value}" for key, value in sorted(self.settings.items())
                 if value not in (None, "") and defaults.get(key, object()) != value]
        return " ".join([self.model if self.engine == "faster-whisper" else f"{self.engine}:{self.model}", *parts])


class AsrSystem(Protocol):
    settings: AsrSettings

    def transcribe(self, audio: Path, sha256: str, speakers: bool) -> list[ReferenceSegment]:
        """The recording's text as timed segments (session: the file's stem). With speakers, segments
        carry who spoke (for speaker-attributed WER); otherwise the speaker may be one placeholder.
        Raises CallscopeError (one line, naming the file) when the recording cannot be transcribed."""
        ...
