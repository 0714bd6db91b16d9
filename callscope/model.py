"""The typed data model that flows through every stage.

A `Conversation` holds the speakers, the turns (each with its words) and the call-level facts
the serializers need. Stages fill it in; serializers (PCA JSON, RTTM, SRT, ...) only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Role(str, Enum):
    AGENT = "AGENT"
    CUSTOMER = "CUSTOMER"
    UNKNOWN = "UNKNOWN"

    @property
    def display_name(self) -> str:
        return {"AGENT": "Agent", "CUSTOMER": "Customer", "UNKNOWN": "Speaker"}[self.value]


@dataclass(frozen=True)
class Word:
    """One recognised word. `text` keeps Whisper's leading space and punctuation."""

    text: str
    start: float
    end: float
    confidence: float
    speaker: str


@dataclass(frozen=True)
class Speaker:
    """A participant. `label` is the PCA speaker id (spk_0, spk_1, ...)."""

    label: str
    role: Role
    channel: int | None = None
    display_name: str = ""
    # Set when the role was inferred from what the speaker said (mono calls), not from a channel.
    role_confidence: float | None = None
    role_evidence: tuple[str, ...] = ()

    @property
    def display_text(self) -> str:
        return self.display_name or self.role.display_name


@dataclass
class Turn:
    """A speech segment of one speaker: consecutive words, later merged by the turn rules."""

    speaker: str
    words: list[Word]
    interruption: bool = False
    loudness_db: list[float] = field(default_factory=list)
    # Signed sentiment in [-5, 5]; None until an enrichment stage scores the turn.
    sentiment: float | None = None

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return max(word.end for word in self.words)

    @property
    def text(self) -> str:
        return "".join(word.text for word in self.words).strip()


@dataclass(frozen=True)
class TimeSpan:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class AudioSource:
    """What we learned about the input file while decoding it."""

    path: str
    sha256: str
    container: str
    codec: str
    sample_rate: int
    channels: int
    duration: float


@dataclass(frozen=True)
class CallMetadata:
    """Facts about the call that come from outside the audio (file name, telephony)."""

    guid: str = ""
    agent: str = ""
    customer: str = ""
    conversation_time: datetime | None = None
    location: str = ""


@dataclass
class Conversation:
    source: AudioSource
    speakers: list[Speaker]
    turns: list[Turn]
    language: str
    metadata: CallMetadata = field(default_factory=CallMetadata)
    # How speakers were separated: "channels" (one per channel), "diarization" (mono, diarized)
    # or "none" (mono, one speaker).
    speaker_separation: str = "channels"
    non_talk: list[TimeSpan] = field(default_factory=list)
    speaker_time: dict[str, float] = field(default_factory=dict)
    transcriber: str = ""
    processed_at: datetime | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        return [word for turn in self.turns for word in turn.words]

    def speaker(self, label: str) -> Speaker:
        for speaker in self.speakers:
            if speaker.label == label:
                return speaker
        raise KeyError(label)
