"""Step 4, enrich and write: turns, English translations of turns in other languages (with the
transcription model, in this same image), analytics, roles, enrichment (PII redaction, sentiment,
entities, issues, categories) and insights for each call, written as PCA JSON and the other output
files (RTTM, SRT, VTT, TXT, and the redacted audio with RedactPII) under the call's own path.

A call the transcribe step sent to Amazon Transcribe (--asr transcribe) is built from its job's result
instead, keeping what the job computed, as `callscope analyze --asr transcribe` does."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from callscope.analysis.call import add_meaning, assemble_conversation
from callscope.analysis.engines import load_enrichers, load_insights, load_transcriber, load_translator
from callscope.analysis.stages import RecognisedSpeech, load_audio
from callscope.audio.decode import DecodedAudio, file_sha256
from callscope.flags import ENRICH_FLAGS, STEP_FLAGS, options_from_values
from callscope.model import TranscriptionJob
from callscope.options import AnalyzeOptions
from callscope.output.writers import output_paths, redacted_audio_request, write_outputs
from callscope.sagemaker_steps.bundle import CallBundle
from callscope.sagemaker_steps.contract import input_dir, output_dir
from callscope.sagemaker_steps.model_channel import with_channel_models
from callscope.sagemaker_steps.step import (
    StepReport,
    analysis_arguments,
    finish,
    main_guard,
    options_from,
    run_over_bundles,
)

if TYPE_CHECKING:
    from callscope.transcription.amazon_call import ServiceConversation


def enrich(args: argparse.Namespace) -> StepReport:
    # The enrich step's own flags on top of every step's (ENRICH_FLAGS set enrichment and insights only).
    options = options_from_values(vars(args), ENRICH_FLAGS, base=options_from(args))
    enrichers = load_enrichers(options)
    insights = load_insights(options)
    results = output_dir("results")
    translators: list = []  # loaded on the first call spoken in another language, then kept

    def translator_for(speech: RecognisedSpeech):
        if not options.transcription.translate or all(speech.group_language(i) in ("", "en")
                                                      for i in range(len(speech.groups))):
            return None
        if not translators:
            # The transcription package (model channel) is unpacked only for a call that needs it.
            translators.append(load_translator(load_transcriber(with_channel_models(options)), options))
        return translators[0]

    def handle(bundle, audio_path):
        audio = load_audio(audio_path, options, sha256=file_sha256(audio_path))
        if "transcribe" in bundle.results:  # --asr transcribe: the words of an Amazon Transcribe job
            converted = _from_service(bundle, audio_path, audio, options)
            # Enriched keeping what the job computed (Call Analytics' sentiment, issues, categories).
            add_meaning(converted.conversation, enrichers, insights, provided=converted.provided,
                        origin=converted.origin)
            conversation = converted.conversation
        else:
            speech = RecognisedSpeech.from_dict(bundle.results["speech"])
            conversation = assemble_conversation(audio_path, audio, speech, options, translator_for(speech))
            conversation.source = replace(conversation.source, path=bundle.uri or bundle.source)
            add_meaning(conversation, enrichers, insights)
        write_outputs(conversation, _stem(results, bundle.source), redacted_audio_request(audio_path, options))
        return None

    redacted = redacted_audio_request(Path(), options) is not None  # the same for every call

    def finished(path: Path) -> bool:
        return all(p.exists() for p in output_paths(_stem(results, CallBundle.read_source(path)), redacted))

    report = run_over_bundles("enrich", input_dir("bundles"), results, handle, finished)
    finish(report, results, args.max_failed_fraction)
    return report


def _from_service(bundle: CallBundle, audio_path: Path, audio: DecodedAudio,
                  options: AnalyzeOptions) -> ServiceConversation:
    """The conversation of the transcribe step's job result, as `callscope analyze --asr transcribe`
    builds it, with the call's own path."""
    from callscope.transcription.amazon import ServiceTranscript
    from callscope.transcription.amazon_call import conversation_from_service

    result = bundle.results["transcribe"]
    transcript = ServiceTranscript(result["document"], TranscriptionJob(**result["job"]))
    converted = conversation_from_service(audio_path, audio, transcript, options)
    converted.conversation.source = replace(converted.conversation.source, path=bundle.uri or bundle.source)
    return converted


def _stem(results: Path, source: str) -> Path:
    """Outputs mirror the input folders, as `callscope analyze --out` does."""
    return results / Path(source).with_suffix("")


def main(argv: list[str] | None = None) -> None:
    parser = analysis_arguments(argparse.ArgumentParser(description=__doc__), STEP_FLAGS + ENRICH_FLAGS)
    args = parser.parse_args(argv)
    main_guard(lambda: enrich(args))


if __name__ == "__main__":
    main()
