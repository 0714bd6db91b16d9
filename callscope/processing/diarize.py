"""Step 2, diarize (diarization image): who spoke when on each mono call, added to its bundle."""

from __future__ import annotations

import argparse

from callscope.engines import load_diarizer
from callscope.processing.contract import input_dir, output_dir
from callscope.processing.step import StepReport, analysis_arguments, finish, main_guard, options_from, run_over_bundles
from callscope.stages import diarize_call, load_audio


def diarize(args: argparse.Namespace) -> StepReport:
    options = options_from(args)
    diarizer = load_diarizer(options)

    def handle(bundle, audio_path):
        timeline = diarize_call(load_audio(audio_path, options), options, diarizer)
        bundle.results["timeline"] = timeline.to_dict()
        return bundle

    target = output_dir("bundles")
    report = run_over_bundles("diarize", input_dir("bundles"), target, handle)
    finish(report, target)
    return report


def main(argv: list[str] | None = None) -> None:
    args = analysis_arguments(argparse.ArgumentParser(description=__doc__)).parse_args(argv)
    main_guard(lambda: diarize(args))


if __name__ == "__main__":
    main()
