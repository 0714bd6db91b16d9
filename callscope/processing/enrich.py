"""Step 4, enrich and write: turns, analytics and roles for each call, written as PCA JSON and the
other output files (RTTM, SRT, VTT, TXT) under the call's own path."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from callscope.audio.decode import file_sha256
from callscope.output.writers import output_paths, write_outputs
from callscope.pipeline import assemble_conversation
from callscope.processing.bundle import CallBundle
from callscope.processing.contract import input_dir, output_dir
from callscope.processing.step import StepReport, analysis_arguments, finish, main_guard, options_from, run_over_bundles
from callscope.stages import RecognisedSpeech, load_audio


def enrich(args: argparse.Namespace) -> StepReport:
    options = options_from(args)
    results = output_dir("results")

    def handle(bundle, audio_path):
        audio = load_audio(audio_path, options, sha256=file_sha256(audio_path))
        conversation = assemble_conversation(audio_path, audio, RecognisedSpeech.from_dict(bundle.results["speech"]), options)
        conversation.source = replace(conversation.source, path=bundle.uri or bundle.source)
        write_outputs(conversation, _stem(results, bundle.source))
        return None

    def finished(path: Path) -> bool:
        return all(p.exists() for p in output_paths(_stem(results, CallBundle.read_source(path))))

    report = run_over_bundles("enrich", input_dir("bundles"), results, handle, finished)
    finish(report, results)
    return report


def _stem(results: Path, source: str) -> Path:
    """Outputs mirror the input folders, as `callscope analyze --out` does."""
    return results / Path(source).with_suffix("")


def main(argv: list[str] | None = None) -> None:
    parser = analysis_arguments(argparse.ArgumentParser(description=__doc__))
    # Only the local enrichment exists so far; Amazon Comprehend and Bedrock join here when they land.
    parser.add_argument("--enrichment", choices=["local"], default="local")
    args = parser.parse_args(argv)
    main_guard(lambda: enrich(args))


if __name__ == "__main__":
    main()
