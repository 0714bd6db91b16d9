"""What every processing step shares: its flags, and a loop over call bundles that never stops
for a bad call, resumes after a retry and lists failures per instance."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from callscope.errors import CallscopeError, InputError, ModelError
from callscope.options import BUNDLED_MODEL, AnalyzeOptions, PyannoteOptions, options_from_flags
from callscope.processing.bundle import CallBundle, bundles_in
from callscope.processing.contract import host_name, input_dir, output_dir

# Handles one call: given its bundle and its audio as a file, returns the bundle to pass on (None
# for the last step, which writes the results itself).
CallHandler = Callable[[CallBundle, Path], "CallBundle | None"]


@dataclass
class StepReport:
    step: str
    host: str
    done: int = 0
    skipped: int = 0
    failures: list[dict] = field(default_factory=list)


def analysis_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The model settings a pipeline passes to its steps (the pipeline's parameters)."""
    parser.add_argument("--model", default=BUNDLED_MODEL)
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--language", default="en")
    parser.add_argument("--diarizer", choices=["embedded", "pyannote", "none"], default="embedded")
    parser.add_argument("--pyannote-pipeline", default=PyannoteOptions.pipeline)
    parser.add_argument("--speakers", default="2")
    parser.add_argument("--min-speakers", type=int, default=1)
    parser.add_argument("--max-speakers", type=int, default=6)
    return parser


def options_from(args: argparse.Namespace) -> AnalyzeOptions:
    return options_from_flags(
        model=args.model, compute_type=args.compute_type, device=args.device, beam_size=args.beam_size,
        language=args.language, diarizer=args.diarizer, pyannote_pipeline=args.pyannote_pipeline,
        speakers=args.speakers, min_speakers=args.min_speakers, max_speakers=args.max_speakers,
    )


def run_over_bundles(
    step: str, source: Path, target: Path, handle: CallHandler, finished: Callable[[Path], bool] | None = None
) -> StepReport:
    """Apply `handle` to every bundle under `source`, writing the bundles it returns into `target`.

    A bundle is skipped when `finished(bundle path)` (default: its result is in `target`), so a
    retried job keeps what its first try finished.
    """
    finished = finished or (lambda path: (target / path.name).exists())
    report = StepReport(step, host_name())
    for path in bundles_in(source):
        if finished(path):
            report.skipped += 1
            continue
        bundle = CallBundle.read(path)
        try:
            with tempfile.TemporaryDirectory() as folder:
                # The call keeps its file name: metadata (GUID, agent, time) is read from it.
                audio = Path(folder) / Path(bundle.source).name
                audio.write_bytes(bundle.audio)
                passed_on = handle(bundle, audio)
                if passed_on is not None:
                    passed_on.write(target)
            report.done += 1
        except InputError as error:
            report.failures.append({"file": bundle.source, "step": step, "error": error.problem, "kind": error.kind})
        except ModelError:
            raise
        except Exception as error:  # a bug or an unforeseen input: report it, keep the batch going
            report.failures.append({"file": bundle.source, "step": step, "kind": "internal_error",
                                    "error": f"internal error: {type(error).__name__}: {error}"})
    # Earlier steps' failure lists travel on, so the last step's output lists every failed call.
    for earlier in source.glob("failures-*.jsonl"):
        shutil.copy(earlier, target / earlier.name)
    return report


def bundles_in_bundles_out(step: str, handle: CallHandler) -> StepReport:
    """A middle step: every bundle of the `bundles` input, handled, into the `bundles` output."""
    target = output_dir("bundles")
    report = run_over_bundles(step, input_dir("bundles"), target, handle)
    finish(report, target)
    return report


def finish(report: StepReport, target: Path) -> None:
    """Write the failure list and print one summary line (CloudWatch keeps processing jobs' stdout)."""
    if report.failures:
        lines = "".join(json.dumps(failure) + "\n" for failure in report.failures)
        (target / f"failures-{report.step}-{report.host}.jsonl").write_text(lines)
    print(f"{report.step} on {report.host}: {report.done} done, {report.skipped} already done, "
          f"{len(report.failures)} failed")
    for failure in report.failures:
        print(f"failed  {failure['file']}: {failure['error']}")


def main_guard(run: Callable[[], None]) -> None:
    """Run a step's main: a model or settings problem ends it with one line and exit code 2."""
    try:
        run()
    except (CallscopeError, ValueError) as error:
        print(f"callscope: error: {error}", file=sys.stderr)
        sys.exit(2)
