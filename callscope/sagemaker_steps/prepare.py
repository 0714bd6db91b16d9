"""Step 1, prepare: every audio file under the input becomes a call bundle; unreadable files are listed, not fatal."""

from __future__ import annotations

import argparse

from callscope.audio.decode import AUDIO_EXTENSIONS, check_readable
from callscope.flags import RUN_FLAGS
from callscope.sagemaker_steps.bundle import CallBundle
from callscope.sagemaker_steps.contract import host_name, input_dir, output_dir
from callscope.sagemaker_steps.step import StepReport, analysis_arguments, finish, main_guard


def prepare(source_uri: str = "", max_failed_fraction: float = 1.0) -> StepReport:
    """Bundle every call under the `calls` input; `source_uri` is where that input came from (an S3 prefix)."""
    source, target = input_dir("calls"), output_dir("bundles")
    report = StepReport("prepare", host_name())
    for path in sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS):
        relative = path.relative_to(source).as_posix()
        try:
            check_readable(path)
            uri = f"{source_uri.rstrip('/')}/{relative}" if source_uri else relative
            bundle = CallBundle(relative, path.read_bytes(), uri=uri)
            if (target / bundle.name).exists():
                report.skipped += 1
                continue
            bundle.write(target)
            report.done += 1
        except Exception as error:  # this file: reported, the others go on
            report.failed(relative, error)
    finish(report, target, max_failed_fraction)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = analysis_arguments(argparse.ArgumentParser(description=__doc__), RUN_FLAGS)
    parser.add_argument("--source-uri", default="", help="the S3 prefix the calls came from")
    args = parser.parse_args(argv)
    main_guard(lambda: prepare(args.source_uri, args.max_failed_fraction))


if __name__ == "__main__":
    main()
