"""The models a run needs, loaded once per process from the options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from callscope.enrichment import Enricher
from callscope.options import AnalyzeOptions, AsrEngine, Backend, DiarizerName, InsightBackend
from callscope.speakers.diarization import Diarizer
from callscope.transcription.base import Transcriber

if TYPE_CHECKING:
    from callscope.insights.runner import InsightRunner
    from callscope.transcription.amazon import AmazonTranscribeService
    from callscope.transcription.translate import AudioTranslator


@dataclass
class Engines:
    transcriber: Transcriber | None  # None with Amazon Transcribe (`service`)
    diarizer: Diarizer | None  # None: mono calls keep one speaker
    enrichers: list[Enricher] = field(default_factory=list)
    translator: AudioTranslator | None = None  # None: no translation (English-only model, or turned off)
    insights: InsightRunner | None = None  # None: no insights
    service: AmazonTranscribeService | None = None  # --asr transcribe: the words come from its jobs


def load_engines(options: AnalyzeOptions) -> Engines:
    if options.asr == AsrEngine.TRANSCRIBE:
        # The service transcribes, diarizes (speaker labels) and separates channels itself.
        return Engines(None, None, load_enrichers(options), None, load_insights(options),
                       service=load_transcribe_service(options))
    transcriber = load_transcriber(options)
    return Engines(transcriber, load_diarizer(options), load_enrichers(options), load_translator(transcriber, options),
                   load_insights(options))


def load_insights(options: AnalyzeOptions) -> InsightRunner | None:
    """The insight runner: the embedded rules, or an LLM backend (InsightBackendError, one line, when
    one cannot be set up)."""
    chosen = options.insights
    if chosen.backend == InsightBackend.NONE:
        return None
    from callscope.insights.prompts import PromptSet
    from callscope.insights.runner import InsightRunner

    backend = None
    if chosen.backend != InsightBackend.EMBEDDED:
        from callscope.insights.backends import make_backend

        backend = make_backend(chosen.backend, model=chosen.model, url=chosen.url, region=chosen.region)
    return InsightRunner(backend, chosen.prompts or PromptSet.load())


def load_translator(transcriber: Transcriber, options: AnalyzeOptions) -> AudioTranslator | None:
    """The transcriber's own model translates, when it is multilingual and translation is on."""
    model = getattr(transcriber, "model", None)
    if not options.transcription.translate or model is None or not model.model.is_multilingual:
        return None
    from callscope.transcription.translate import AudioTranslator

    return AudioTranslator(model, beam_size=options.transcription.beam_size)


def load_transcribe_service(options: AnalyzeOptions) -> AmazonTranscribeService:
    from callscope.transcription.amazon import AmazonTranscribeService

    chosen = options.amazon_transcribe
    return AmazonTranscribeService(chosen, options.speakers, media_uris=dict(chosen.media_uris))


def load_transcriber(options: AnalyzeOptions) -> Transcriber:
    from callscope.transcription.whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber(options.transcription)


def load_diarizer(options: AnalyzeOptions) -> Diarizer | None:
    """The diarizer the options name; None for "none" (mono calls keep one speaker)."""
    if options.diarizer == DiarizerName.EMBEDDED:
        from callscope.speakers.embedded import EmbeddedDiarizer

        return EmbeddedDiarizer(threads=options.transcription.threads,
                                model_dir=Path(options.diarizer_models) if options.diarizer_models else None)
    if options.diarizer == DiarizerName.PYANNOTE:
        from callscope.speakers.pyannote_backend import PyannoteDiarizer

        return PyannoteDiarizer(options.pyannote)
    return None


def load_enrichers(options: AnalyzeOptions) -> list[Enricher]:
    """The enrichers the options ask for; models load on first use, once per process."""
    chosen = options.enrichment
    enrichers: list[Enricher] = []
    if chosen.redact:
        from callscope.enrichment.pii import PiiRedactor

        if chosen.pii == Backend.COMPREHEND:
            from callscope.enrichment.pii.comprehend import ComprehendPiiDetector

            enrichers.append(PiiRedactor(ComprehendPiiDetector(), token=chosen.redaction_token))
        else:
            enrichers.append(PiiRedactor(token=chosen.redaction_token))
    if chosen.sentiment == Backend.LOCAL:
        from callscope.enrichment.sentiment import LocalSentiment

        enrichers.append(LocalSentiment())
    elif chosen.sentiment == Backend.COMPREHEND:
        from callscope.enrichment.comprehend_sentiment import ComprehendSentiment

        enrichers.append(ComprehendSentiment())
    if chosen.entities == Backend.LOCAL:
        from callscope.enrichment.entities import LocalEntities

        enrichers.append(LocalEntities(entity_map=chosen.entity_map))
    elif chosen.entities == Backend.COMPREHEND:
        from callscope.enrichment.entities import ComprehendEntities

        enrichers.append(ComprehendEntities(entity_map=chosen.entity_map))
    if chosen.issues == Backend.LOCAL:
        from callscope.enrichment.issues import IssuePatterns, LocalIssues

        enrichers.append(LocalIssues(chosen.issue_patterns or IssuePatterns.load()))
    if chosen.categories == Backend.LOCAL:
        from callscope.enrichment.categories import LocalCategories

        enrichers.append(LocalCategories(chosen.category_rules))
    return enrichers
