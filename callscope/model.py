"""The typed data model that flows through every stage.

A `Conversation` holds the speakers, the turns (each with its words) and the call-level facts
the serializers need. Stages fill it in; serializers (PCA JSON, RTTM, SRT, ...) only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Literal


def letters_of(text: str) -> str:
    """`text`'s letters and digits, lower case (a key that ignores case, spaces and punctuation)."""
    return "".join(char for char in text.lower() if char.isalnum())


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

    @property
    def letters(self) -> str:
        """The word's letters and digits, lower case: what two spellings of one word share ("Hello?", "hello,")."""
        return letters_of(self.text)


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


@dataclass(frozen=True)
class TextSpan:
    """A stretch of a turn's text (issues, action items, outcomes): character offsets into Turn.text,
    or into Turn.translation when the turn has one; `end` is exclusive."""

    text: str
    begin: int
    end: int


@dataclass(frozen=True)
class Entity:
    """A named thing in a turn's text (person, organisation, product, date, ... or a custom type)."""

    type: str
    text: str
    begin: int  # character offsets, as TextSpan
    end: int
    score: float


@dataclass(frozen=True)
class SentimentScores:
    """Probabilities of the three sentiment classes of a turn (they sum to 1)."""

    positive: float
    negative: float
    neutral: float


@dataclass
class Turn:
    """A speech segment of one speaker: consecutive words, later merged by the turn rules."""

    speaker: str
    words: list[Word]
    interruption: bool = False
    loudness_db: list[float] = field(default_factory=list)
    # Signed sentiment in [-5, 5]; None until an enrichment stage scores the turn.
    sentiment: float | None = None
    sentiment_scores: SentimentScores | None = None
    # The turn's spoken language (ISO 639-1) and, when that is not English, its English translation;
    # analytics read `analysis_text`.
    language: str = ""
    translation: str | None = None
    entities: list[Entity] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    # Categories triggered after this (last) turn, such as silence at the end of the call.
    follow_on_categories: list[str] = field(default_factory=list)
    issues: list[TextSpan] = field(default_factory=list)
    action_items: list[TextSpan] = field(default_factory=list)
    outcomes: list[TextSpan] = field(default_factory=list)

    @property
    def analysis_text(self) -> str:
        """The English text analytics run on: the translation when there is one."""
        return self.translation if self.translation is not None else self.text

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
class SpeechRegion:
    """A stretch of one speaker's speech as the diarizer (mono) or the voice activity detector (one per
    channel) found it. `without_words` is set where the recogniser gave no words for it, even when the
    stretch was transcribed again on its own: speech without words, still in RTTM and talk time."""

    start: float
    end: float
    speaker: str
    without_words: bool = False
    loudness_db: tuple[float, ...] = ()  # per started second; set for speech without words (it has no turn)

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class CategoryMatch:
    """A category rule that matched the call: where (empty for rules on something absent)."""

    name: str
    spans: tuple[TimeSpan, ...] = ()


@dataclass(frozen=True)
class Insight:
    """One named insight about the call (from a prompt of the insight set), as its backend gave it.

    `value` is JSON that validated against the prompt's schema; `error` says why there is none.
    """

    name: str
    value: Any
    backend: str  # "embedded:rules", "bedrock:<model id>", "openai:<model>", "llamacpp:<file>"
    error: str = ""
    title: str = ""  # its prompt's title: the key under the PCA Summary ("Agent Sentiment")

    @property
    def heading(self) -> str:
        return self.title or self.name


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
class TranscriptionJob:
    """The Amazon Transcribe job a call's words came from, as its description reports it (the PCA
    TranscribeJobInfo of `--asr transcribe`)."""

    name: str
    api_type: str  # "standard" or "analytics" (Call Analytics), as the reference names them
    completion_time: str = ""  # str(datetime) of the service's CompletionTime, as the reference writes it
    media_format: str = ""  # as Transcribe determined it: wav, mp3, flac, ...
    media_sample_rate: int = 0
    media_uri: str = ""  # s3:// of the media the job read
    vocabulary_name: str = ""
    vocabulary_filter: str = ""  # "<name> [<method>]"
    language_model_name: str = ""
    redacted: bool = False  # the transcript read is the service's PII-redacted one
    language_code: str = ""  # the locale the job transcribed in ("en-GB"), identified or given


@dataclass(frozen=True)
class CallMetadata:
    """Facts about the call that come from outside the audio (file name, telephony)."""

    guid: str = ""
    agent: str = ""
    customer: str = ""
    conversation_time: datetime | None = None
    location: str = ""


# How speakers were separated: "channels" (one per channel), "diarization" (mono, diarized) or "none"
# (mono, one speaker).
Separation = Literal["channels", "diarization", "none"]


@dataclass
class Conversation:
    source: AudioSource
    speakers: list[Speaker]
    turns: list[Turn]
    language: str
    metadata: CallMetadata = field(default_factory=CallMetadata)
    speaker_separation: Separation = "channels"
    non_talk: list[TimeSpan] = field(default_factory=list)
    # Who spoke when (RTTM, talk time, non-talk time); empty where only words are known (chats,
    # transcripts, Amazon Transcribe), which then stand for the speech.
    speech_regions: list[SpeechRegion] = field(default_factory=list)
    speaker_time: dict[str, float] = field(default_factory=dict)
    transcriber: str = ""
    vocabulary: str = ""  # the custom vocabulary's name, when one was used
    processed_at: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    categories: list[CategoryMatch] = field(default_factory=list)
    redacted: bool = False  # PII in every text (and the redacted audio) replaced
    # Which backend produced each enrichment ("sentiment" -> "local:minilm-logreg", ...).
    enrichment: dict[str, str] = field(default_factory=dict)
    insights: list[Insight] = field(default_factory=list)  # in the order of the insight prompts
    transcription_job: TranscriptionJob | None = None  # when Amazon Transcribe wrote the words

    @property
    def words(self) -> list[Word]:
        return [word for turn in self.turns for word in turn.words]

    def speaker(self, label: str) -> Speaker:
        for speaker in self.speakers:
            if speaker.label == label:
                return speaker
        raise KeyError(label)
