"""What every processing step shares: its flags, and a loop over call bundles that never stops
for a bad call, resumes after a retry and lists failures per instance."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from callscope.aws.errors import TranscribeRequestError
from callscope.errors import CallFailure, CallscopeError, ModelError
from callscope.flags import STEP_FLAGS, Flag, options_from_values
from callscope.options import AnalyzeOptions
from callscope.sagemaker_steps.bundle import CallBundle, bundles_in
from callscope.sagemaker_steps.contract import host_name, input_dir, output_dir

# Set by a local run of the pipeline (pipelines/post_call_analytics/local_run.py): its S3 URIs are
# folders on that machine, so a call's URI must not be handed to an AWS service as its media.
LOCAL_S3_VARIABLE = "CALLSCOPE_LOCAL_S3_ROOT"

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

    def failed(self, source: str, error: Exception) -> None:
        """One call failed: listed as the local batch lists it (CallFailure.of), the other calls go on."""
        failure = CallFailure.of(error)
        self.failures.append({"file": source, "step": self.step, "error": failure.problem, "kind": failure.kind})


def analysis_arguments(parser: argparse.ArgumentParser, flags: tuple[Flag, ...] = STEP_FLAGS
                       ) -> argparse.ArgumentParser:
    """The flags a pipeline passes to its steps (callscope.flags): the pipeline's parameters, or defaults."""
    for flag in flags:
        if flag.type is bool:  # pipeline parameters are strings: a switch is yes or no
            parser.add_argument(flag.option, choices=["yes", "no"], default="yes" if flag.default else "no",
                                help=flag.help)
        else:
            parser.add_argument(flag.option, type=flag.type, choices=flag.choices or None, default=flag.default,
                                help=flag.help)
    return parser


def options_from(args: argparse.Namespace, flags: tuple[Flag, ...] = STEP_FLAGS) -> AnalyzeOptions:
    """The step's options; ValueError (one line) for flags that cannot go together."""
    return options_from_values(vars(args), flags)


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
            with call_audio(bundle) as audio:
                passed_on = handle(bundle, audio)
                if passed_on is not None:
                    passed_on.write(target)
            report.done += 1
        except (ModelError, TranscribeRequestError):  # the step's settings: every call would fail alike
            raise
        except Exception as error:  # this call's file or job, or a bug: reported, the others go on
            report.failed(bundle.source, error)
    # Earlier steps' failure lists travel on, so the last step's output lists every failed call.
    for earlier in source.glob("failures-*.jsonl"):
        shutil.copy(earlier, target / earlier.name)
    return report


@contextmanager
def call_audio(bundle: CallBundle) -> Iterator[Path]:
    """The call's audio as a temporary file. It keeps the call's file name: metadata (GUID, agent,
    time) is read from it."""
    with tempfile.TemporaryDirectory() as folder:
        audio = Path(folder) / Path(bundle.source).name
        audio.write_bytes(bundle.audio)
        yield audio


def bundles_in_bundles_out(step: str, handle: CallHandler, max_failed_fraction: float = 1.0) -> StepReport:
    """A middle step: every bundle of the `bundles` input, handled, into the `bundles` output."""
    target = output_dir("bundles")
    report = run_over_bundles(step, input_dir("bundles"), target, handle)
    finish(report, target, max_failed_fraction)
    return report


class TooManyFailures(CallscopeError):
    """More of a step's calls failed than --max-failed-fraction allows: the step fails (one line)."""


def finish(report: StepReport, target: Path, max_failed_fraction: float = 1.0) -> None:
    """Write the failure list and print one summary line (CloudWatch keeps processing jobs' stdout);
    TooManyFailures when more than `max_failed_fraction` of the calls tried failed: a step whose calls
    mostly fail points at its settings or its inputs, and must not pass as a success."""
    failures_file = target / f"failures-{report.step}-{report.host}.jsonl"
    if report.failures:
        failures_file.write_text("".join(json.dumps(failure) + "\n" for failure in report.failures))
    print(f"{report.step} on {report.host}: {report.done} done, {report.skipped} already done, "
          f"{len(report.failures)} failed")
    for failure in report.failures:
        print(f"failed  {failure['file']}: {failure['error']}")
    tried = report.done + len(report.failures)
    if tried and len(report.failures) / tried > max_failed_fraction:
        raise TooManyFailures(f"{report.step}: {len(report.failures)} of {tried} calls failed, more than "
                              f"--max-failed-fraction {max_failed_fraction:g} allows ({failures_file.name})")


def main_guard(run: Callable[[], None]) -> None:
    """Run a step's main: a model or settings problem ends it with one line and exit code 2."""
    try:
        run()
    except (CallscopeError, ValueError) as error:
        print(f"callscope: error: {error}", file=sys.stderr)
        sys.exit(2)
