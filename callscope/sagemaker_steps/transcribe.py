"""Step 3, transcribe (transcription image, GPU by instance type): the words of each call, each
given its speaker from the diarize step's timeline and its language, and the call's speech regions
(a region left without words transcribed again on its own), added to its bundle.

Turns spoken in another language are translated in the enrich step, once turns exist.

With --asr transcribe an Amazon Transcribe job writes the words instead (no local model is loaded):
its result document and job description go into the bundle as `transcribe`, for the enrich step.
A call already in S3 (the bundle's URI) is transcribed from there, without another upload; in a
local run of the pipeline, where S3 URIs are local folders, it is uploaded to the --s3-bucket.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from callscope.analysis.engines import load_transcribe_service, load_transcriber
from callscope.analysis.stages import SpeakerTimeline, attribute_speakers, complete_speech, load_audio, transcribe_call
from callscope.audio.decode import DecodedAudio
from callscope.aws.errors import AwsServiceError
from callscope.errors import InputError
from callscope.options import AnalyzeOptions, AsrEngine
from callscope.sagemaker_steps.bundle import CallBundle, bundles_in
from callscope.sagemaker_steps.contract import input_dir, output_dir
from callscope.sagemaker_steps.model_channel import with_channel_models
from callscope.sagemaker_steps.step import (
    LOCAL_S3_VARIABLE,
    StepReport,
    analysis_arguments,
    bundles_in_bundles_out,
    call_audio,
    main_guard,
    options_from,
)
from callscope.transcription.amazon import stops_starting

if TYPE_CHECKING:
    from callscope.transcription.amazon import AmazonTranscribeService


def transcribe(args: argparse.Namespace) -> StepReport:
    options = options_from(args)
    if options.asr == AsrEngine.TRANSCRIBE:
        return transcribe_with_service(options, args.max_failed_fraction)
    options = with_channel_models(options)  # the pipeline's model package, if it gives one
    transcriber = load_transcriber(options)

    def handle(bundle, audio_path):
        audio = load_audio(audio_path, options)
        speech = transcribe_call(audio_path, audio, options, transcriber)
        timeline = SpeakerTimeline.from_dict(bundle.results.get("timeline", {"segments": []}))
        speech = complete_speech(attribute_speakers(speech, timeline), timeline, audio, options, transcriber)
        bundle.results["speech"] = speech.to_dict()
        return bundle

    return bundles_in_bundles_out("transcribe", handle, args.max_failed_fraction)


def transcribe_with_service(options: AnalyzeOptions, max_failed_fraction: float = 1.0) -> StepReport:
    """One Amazon Transcribe job per call, every job started first. A job that fails is one line in
    the step's failures, and the next call goes on."""
    service = load_transcribe_service(options)
    media_uris = service.media_uris  # sha256 -> the call's own S3 URI: Transcribe reads it there

    def decoded(bundle: CallBundle, audio_path: Path) -> DecodedAudio:
        audio = load_audio(audio_path, options)
        if bundle.uri.startswith("s3://") and not os.environ.get(LOCAL_S3_VARIABLE):
            media_uris[audio.source.sha256] = bundle.uri
        return audio

    def handle(bundle: CallBundle, audio_path: Path) -> CallBundle:
        transcript = service.transcribe(audio_path, decoded(bundle, audio_path))
        bundle.results["transcribe"] = {"document": transcript.document, "job": asdict(transcript.job)}
        return bundle

    _start_every_job(service, decoded)
    return bundles_in_bundles_out("transcribe", handle, max_failed_fraction)


def _start_every_job(service: AmazonTranscribeService,
                     decoded: Callable[[CallBundle, Path], DecodedAudio]) -> None:
    """Start the job of every call not done yet before waiting for any, so the jobs run side by side
    in the service. A call that cannot be started is left to its turn, which reports it."""
    target = output_dir("bundles")
    for path in bundles_in(input_dir("bundles")):
        if (target / path.name).exists():
            continue  # finished by an earlier try of this step
        bundle = CallBundle.read(path)
        try:
            with call_audio(bundle) as audio_path:
                service.start(audio_path, decoded(bundle, audio_path))
        except AwsServiceError as error:
            if stops_starting(error):
                print(f"Amazon Transcribe: {error.problem}; the remaining jobs start as their calls come up")
                return
        except InputError:
            continue


def main(argv: list[str] | None = None) -> None:
    args = analysis_arguments(argparse.ArgumentParser(description=__doc__)).parse_args(argv)
    main_guard(lambda: transcribe(args))


if __name__ == "__main__":
    main()
