"""Step 3, transcribe (transcription image, GPU by instance type): the words of each call, each
given its speaker from the diarize step's timeline and its language, added to its bundle.

Turns spoken in another language are translated in the enrich step, once turns exist.
"""

from __future__ import annotations

import argparse

from callscope.engines import load_transcriber
from callscope.processing.step import StepReport, analysis_arguments, bundles_in_bundles_out, main_guard, options_from
from callscope.stages import SpeakerTimeline, attribute_speakers, load_audio, transcribe_call


def transcribe(args: argparse.Namespace) -> StepReport:
    options = options_from(args)
    transcriber = load_transcriber(options)

    def handle(bundle, audio_path):
        speech = transcribe_call(audio_path, load_audio(audio_path, options), options, transcriber)
        timeline = SpeakerTimeline.from_dict(bundle.results.get("timeline", {"segments": []}))
        bundle.results["speech"] = attribute_speakers(speech, timeline).to_dict()
        return bundle

    return bundles_in_bundles_out("transcribe", handle)


def main(argv: list[str] | None = None) -> None:
    args = analysis_arguments(argparse.ArgumentParser(description=__doc__)).parse_args(argv)
    main_guard(lambda: transcribe(args))


if __name__ == "__main__":
    main()
