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
from dataclasses import dataclass, field, replace
from pathlib import Path

from callscope.aws.errors import AwsServiceError, TranscribeRequestError
from callscope.errors import CallscopeError, InputError, ModelError
from callscope.options import (
    ASR_ENGINES,
    BUNDLED_MODEL,
    TRANSCRIBE_APIS,
    AmazonTranscribeOptions,
    AnalyzeOptions,
    PyannoteOptions,
    options_from_flags,
    transcribe_options_from_flags,
)
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
    # Amazon Transcribe instead of the local models (the names of `callscope analyze --asr transcribe`);
    # an empty string is "none", as pipeline parameters cannot be left out.
    parser.add_argument("--asr", choices=ASR_ENGINES, default="whisper")
    parser.add_argument("--s3-bucket", default="", help="--asr transcribe: the bucket for media and results")
    parser.add_argument("--s3-prefix", default=AmazonTranscribeOptions.prefix)
    parser.add_argument("--transcribe-api", choices=TRANSCRIBE_APIS, default="auto")
    parser.add_argument("--language-code", default="en-US", help="a locale such as en-US, or auto to identify it")
    parser.add_argument("--transcribe-role-arn", default="", help="the role Call Analytics writes results with")
    parser.add_argument("--transcribe-vocabulary", default="", help="a custom vocabulary's name")
    parser.add_argument("--language-model", default="", help="a custom language model's name")
    return parser


def options_from(args: argparse.Namespace) -> AnalyzeOptions:
    """The step's options; ValueError (one line) for flags that cannot go together."""
    options = options_from_flags(
        model=args.model, compute_type=args.compute_type, device=args.device, beam_size=args.beam_size,
        language=args.language, diarizer=args.diarizer, pyannote_pipeline=args.pyannote_pipeline,
        speakers=args.speakers, min_speakers=args.min_speakers, max_speakers=args.max_speakers,
    )
    if args.asr != "transcribe":
        return options  # the whisper path builds exactly the options it always did
    return replace(options, asr="transcribe", amazon_transcribe=_transcribe_options(args, options))


def _transcribe_options(args: argparse.Namespace, options: AnalyzeOptions) -> AmazonTranscribeOptions:
    return transcribe_options_from_flags(  # pipeline parameters cannot be left out: "" is none
        bucket=args.s3_bucket, prefix=args.s3_prefix, api=args.transcribe_api, language_code=args.language_code,
        speaker_count=options.speaker_count, vocabulary_name=args.transcribe_vocabulary or None,
        language_model_name=args.language_model or None, data_access_role_arn=args.transcribe_role_arn or None)


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
        except (InputError, AwsServiceError) as error:  # this call's file, or its job: the others go on
            report.failures.append({"file": bundle.source, "step": step, "error": error.problem, "kind": error.kind})
        except (ModelError, TranscribeRequestError):  # the step's settings: every call would fail alike
            raise
        except Exception as error:  # a bug or an unforeseen input: report it, keep the batch going
            report.failures.append({"file": bundle.source, "step": step, "kind": "internal_error",
                                    "error": f"internal error: {type(error).__name__}: {error}"})
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
