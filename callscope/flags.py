"""The flag spec: every option that more than one host takes, declared once.

`callscope analyze` and `callscope eval asr` get their click options from it (callscope.cli.flags), the
SageMaker processing steps their argparse arguments (callscope.sagemaker_steps.step), the SageMaker
Pipeline its parameters and the arguments it gives the steps (pipelines/post_call_analytics/pipeline.py),
and `options_from_values` turns the values into AnalyzeOptions. A new option is one `Flag` here: its
name, default, help, and the AnalyzeOptions field it sets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from callscope.options import (
    BUNDLED_MODEL,
    MULTILINGUAL_MODEL,
    AmazonTranscribeOptions,
    AnalyzeOptions,
    AsrEngine,
    Backend,
    DiarizerName,
    InsightBackend,
    PyannoteOptions,
    TranscribeApi,
    checked_transcribe_options,
    choices,
)

FlagValue = str | int | float | bool


@dataclass(frozen=True)
class Flag:
    name: str  # on the command line: --name
    default: FlagValue
    help: str = ""
    type: type = str  # str, int, float or bool (a switch on the command line; yes/no for the steps)
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    # The AnalyzeOptions fields it sets (dotted paths), through `convert` when given. None: read by name
    # in `options_from_values` (a value that several fields are derived from).
    fields: tuple[str, ...] | None = ()
    convert: Callable[[Any], Any] | None = None
    # Its SageMaker Pipeline parameter; "" when the pipeline leaves it at its default.
    parameter: str = ""
    pipeline_default: FlagValue | None = None  # where the pipeline's default differs

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def option(self) -> str:
        return f"--{self.name}"


def _none_if_empty(value: str) -> str | None:
    return value or None


def _speaker_count(value: str) -> int | None:
    if value != "auto" and not value.isdigit():
        raise ValueError(f"--speakers {value!r} is not a number or 'auto'")
    return None if value == "auto" else int(value)


def _yes(value: str | bool) -> bool:
    return value is True or value == "yes"


# The models: `callscope analyze`, every analysis step, and (those with a parameter) the pipeline.
MODEL_FLAGS = (
    Flag("model", BUNDLED_MODEL, "Whisper model: the bundled tiny.en, a CTranslate2 model directory, or a hub name.",
         fields=("transcription.model",), parameter="WhisperModel"),
    Flag("compute-type", "int8", "CTranslate2 compute type.", fields=("transcription.compute_type",),
         parameter="ComputeType"),
    Flag("device", "cpu", "Where the models run: cpu, cuda or auto.", choices=("auto", "cpu", "cuda"),
         fields=("transcription.device", "pyannote.device"), parameter="Device", pipeline_default="auto"),
    Flag("beam-size", 5, type=int, minimum=1, fields=("transcription.beam_size",), parameter="BeamSize"),
    Flag("language", "en", "Spoken language, or 'auto' to detect it.", fields=("transcription.language",),
         convert=lambda value: None if value == "auto" else value, parameter="Language"),
    Flag("diarizer", "embedded", "Who spoke when on mono calls: the embedded diarizer, pyannote.audio (extra "
         "'pyannote'), or none (one speaker).", choices=choices(DiarizerName), fields=("diarizer",),
         parameter="Diarizer"),
    Flag("pyannote-pipeline", PyannoteOptions.pipeline,
         "With --diarizer pyannote: a local pipeline directory, or a hub name (token from HF_TOKEN).",
         fields=("pyannote.pipeline",)),
    Flag("speakers", "2", "Speakers on a mono call, or 'auto' to estimate within --min/--max-speakers.",
         fields=("speaker_count.exact",), convert=_speaker_count, parameter="Speakers"),
    Flag("min-speakers", 1, type=int, minimum=1, fields=("speaker_count.minimum",)),
    Flag("max-speakers", 6, type=int, minimum=1, fields=("speaker_count.maximum",)),
)

# This machine's transcription: `callscope analyze` and `callscope eval asr` (the steps keep the defaults).
LOCAL_FLAGS = (
    Flag("vad", True, "Voice activity detection before transcribing (--no-vad: the whole signal).", type=bool,
         fields=("transcription.vad",)),
    Flag("translate", True, "English translation of turns in other languages (needs a multilingual model; with "
         "--language auto the default model becomes the multilingual 'base').", type=bool,
         fields=("transcription.translate",)),
    Flag("threads", 0, "CPU threads (0: all cores).", type=int, minimum=0, fields=("transcription.cpu_threads",)),
)

# Amazon Transcribe instead of the local models (docs/TRANSCRIBE.md): `callscope analyze`, every
# analysis step and the pipeline. "" is none: pipeline parameters cannot be left out.
TRANSCRIBE_FLAGS = (
    Flag("asr", "whisper", "Who writes the words: faster-whisper here, or Amazon Transcribe jobs (needs the aws "
         "extra, AWS credentials and --s3-bucket; docs/TRANSCRIBE.md).", choices=choices(AsrEngine), fields=("asr",),
         parameter="Asr"),
    Flag("s3-bucket", "", "--asr transcribe: the bucket for the recordings and results.",
         fields=("amazon_transcribe.bucket",), parameter="TranscribeBucket"),
    Flag("s3-prefix", AmazonTranscribeOptions.prefix,
         "--asr transcribe: key prefix (media/ and transcripts/ go under it).", fields=("amazon_transcribe.prefix",)),
    Flag("transcribe-api", "auto", "auto: Call Analytics for stereo calls, a standard job with speaker labels for "
         "mono ones.", choices=choices(TranscribeApi), fields=("amazon_transcribe.api",), parameter="TranscribeApi"),
    Flag("language-code", "", "--asr transcribe: the language, a locale such as en-US, or auto to identify it "
         "(default: en-US; auto with --language auto).", fields=None, parameter="TranscribeLanguageCode",
         pipeline_default="en-US"),
    Flag("transcribe-role-arn", "", "--asr transcribe: IAM role Call Analytics writes the results to "
         "--s3-bucket with.", fields=("amazon_transcribe.data_access_role_arn",), convert=_none_if_empty,
         parameter="TranscribeRoleArn"),
    Flag("transcribe-vocabulary", "", "--asr transcribe: a custom vocabulary's name.",
         fields=("amazon_transcribe.vocabulary_name",), convert=_none_if_empty, parameter="TranscribeVocabulary"),
    Flag("language-model", "", "--asr transcribe: a custom language model's name.",
         fields=("amazon_transcribe.language_model_name",), convert=_none_if_empty,
         parameter="TranscribeLanguageModel"),
)

# What the enrich step adds (`callscope analyze` has finer flags for the same: --sentiment, --entities, ...).
ENRICH_FLAGS = (
    Flag("enrichment", "local", "Sentiment, entities and PII: the local models in the image, or Amazon Comprehend.",
         choices=(Backend.LOCAL.value, Backend.COMPREHEND.value),
         fields=("enrichment.sentiment", "enrichment.entities", "enrichment.pii"),
         parameter="EnrichmentBackend"),
    Flag("redact", False, "Replace PII in every output and write <call>.redacted.wav.", type=bool,
         fields=("enrichment.redact",), convert=_yes, parameter="RedactPII"),
    Flag("insights", "embedded", "Insights from rules (no model) or from an LLM on Amazon Bedrock.",
         choices=(InsightBackend.EMBEDDED.value, InsightBackend.BEDROCK.value, InsightBackend.NONE.value),
         fields=("insights.backend",), parameter="InsightsBackend"),
    Flag("llm-model", "", "The Bedrock model id (--insights bedrock).", fields=("insights.model",),
         convert=_none_if_empty, parameter="LlmModelId", pipeline_default="anthropic.claude-3-haiku-20240307-v1:0"),
    Flag("llm-region", "", "The Bedrock region (default: the job's).", fields=("insights.region",),
         convert=_none_if_empty),
)

# How a SageMaker step judges its own run (every step of the pipelines takes it; no AnalyzeOptions field).
RUN_FLAGS = (
    Flag("max-failed-fraction", 0.5, "A step fails when more than this fraction of the calls it tried failed "
         "(each is still listed); 1 never fails for failed calls.", type=float,
         parameter="MaxFailedFraction"),
)

# Every analysis step (diarize, transcribe, enrich) takes these.
STEP_FLAGS = MODEL_FLAGS + TRANSCRIBE_FLAGS + RUN_FLAGS


ALL_FLAGS = MODEL_FLAGS + LOCAL_FLAGS + TRANSCRIBE_FLAGS + ENRICH_FLAGS + RUN_FLAGS


def flag_named(name: str) -> Flag:
    return next(flag for flag in ALL_FLAGS if flag.name == name)


def options_from_values(values: Mapping[str, Any], flags: tuple[Flag, ...] = STEP_FLAGS,
                        base: AnalyzeOptions | None = None) -> AnalyzeOptions:
    """AnalyzeOptions from flag values (by `Flag.dest`; a flag with no value keeps its default), on top of
    `base`. ValueError (one line) for values that cannot be used or cannot go together. With --language
    auto the English-only default model gives way to the multilingual one; Amazon Transcribe's settings
    are checked (and kept) only with --asr transcribe."""
    chosen = {flag.dest: values.get(flag.dest, flag.default) for flag in flags}
    assignments = {}
    for flag in flags:
        value = chosen[flag.dest]
        for field_path in flag.fields or ():
            assignments[field_path] = flag.convert(value) if flag.convert else value
    options = _assign(base or AnalyzeOptions(), assignments)
    if options.transcription.language is None and options.transcription.model == BUNDLED_MODEL:
        options = replace(options, transcription=replace(options.transcription, model=MULTILINGUAL_MODEL))
    if "asr" not in chosen:
        return options
    if options.asr != AsrEngine.TRANSCRIBE:
        return replace(options, amazon_transcribe=AmazonTranscribeOptions())  # its flags change nothing
    return replace(options, amazon_transcribe=checked_transcribe_options(
        options.amazon_transcribe, language_code=chosen.get("language_code") or None,
        language=chosen.get("language", "en"), speaker_count=options.speaker_count,
        redact=options.enrichment.redact))


def options_from_flags(**values: Any) -> AnalyzeOptions:
    """The options the models' flags make (MODEL_FLAGS and LOCAL_FLAGS, by dest)."""
    return options_from_values(values, MODEL_FLAGS + LOCAL_FLAGS)


def _assign(settings: Any, assignments: Mapping[str, Any]) -> Any:
    """`settings` with the dotted fields set; each nested dataclass is replaced once, with all its
    fields together (SpeakerCount checks its bounds as a whole)."""
    direct = {path: value for path, value in assignments.items() if "." not in path}
    nested: dict[str, dict[str, Any]] = defaultdict(dict)
    for path, value in assignments.items():
        if "." in path:
            head, rest = path.split(".", 1)
            nested[head][rest] = value
    for head, inner in nested.items():
        direct[head] = _assign(getattr(settings, head), inner)
    return replace(settings, **direct)
