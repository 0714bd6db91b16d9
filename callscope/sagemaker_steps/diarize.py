"""Step 2, diarize (diarization image): who spoke when on each mono call, added to its bundle.

With --asr transcribe the step passes the bundles on as they are: Amazon Transcribe labels the
speakers itself, so no diarizer is loaded."""

from __future__ import annotations

import argparse

from callscope.analysis.engines import load_diarizer
from callscope.analysis.stages import diarize_call, load_audio
from callscope.options import AsrEngine
from callscope.sagemaker_steps.model_channel import with_channel_models
from callscope.sagemaker_steps.step import (
    StepReport,
    analysis_arguments,
    bundles_in_bundles_out,
    main_guard,
    options_from,
)


def diarize(args: argparse.Namespace) -> StepReport:
    options = options_from(args)
    if options.asr == AsrEngine.TRANSCRIBE:
        return bundles_in_bundles_out("diarize", lambda bundle, audio_path: bundle, args.max_failed_fraction)
    options = with_channel_models(options)  # the pipeline's model package, if it gives one
    diarizer = load_diarizer(options)

    def handle(bundle, audio_path):
        timeline = diarize_call(load_audio(audio_path, options), options, diarizer)
        bundle.results["timeline"] = timeline.to_dict()
        return bundle

    return bundles_in_bundles_out("diarize", handle, args.max_failed_fraction)


def main(argv: list[str] | None = None) -> None:
    args = analysis_arguments(argparse.ArgumentParser(description=__doc__)).parse_args(argv)
    main_guard(lambda: diarize(args))


if __name__ == "__main__":
    main()
